"""Layer 2, decorators and the registry of stable names (survives `DBOS.destroy()`)."""
