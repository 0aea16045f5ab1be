"""Example services bundled with restate_lab, served by ``restate-lab demo``."""
