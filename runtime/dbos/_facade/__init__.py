"""Layer 1, the public facade: `DBOS` and the other names `dbos/__init__.py` re-exports."""
