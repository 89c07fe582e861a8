"""Layer 5, services started by `DBOS.launch()`: one module each, each stopped by
`DBOS.destroy()`."""
