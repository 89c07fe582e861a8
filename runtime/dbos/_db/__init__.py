"""Layer 4, the system database (and the application database of transactions).

`system.SystemDatabase` is one process's connections (`connections`, over `engines`,
`raw_connections` and `faults`) and one store per area built over them (`store.Store`:
workflows, queues, queue_table, schedules, messages, caller_writes, retention, inspection,
versions, setup); the schema, its migrations, and the SQL of each area in `sql/`."""
