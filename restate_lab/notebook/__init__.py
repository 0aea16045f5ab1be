"""The notebook layer: widgets, frames and plots over any target (imported only when asked for).

Users import from :mod:`restate_lab.widgets` and :mod:`restate_lab.plots`; the modules here are private.
"""
