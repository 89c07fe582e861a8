"""Layer 4, the system database (and the application database of transactions):
connections, schema, migrations, and the SQL of each area."""
