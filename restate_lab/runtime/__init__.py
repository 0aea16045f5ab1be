"""The in-process Restate runtime: engine, journal, timers, and the ``LocalRestate`` facade."""
