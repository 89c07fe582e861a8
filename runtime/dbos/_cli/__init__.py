"""The `dbos` admin command (entry point `dbos._cli.main:main`)."""
