"""dbos-compile."""
