"""Throwaway database servers for the tests and benchmarks: ``pg_cluster`` (a PostgreSQL
cluster from the local server binaries; also ``python tests/servers/pg_cluster.py``) and
``pgbouncer`` (a transaction-mode PgBouncer in front of it)."""
