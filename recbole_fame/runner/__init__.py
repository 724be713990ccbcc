"""How a run is assembled: its plan, the one pipeline every entry point shares, the model and trainer lookup, the
settings checks and the console report."""
