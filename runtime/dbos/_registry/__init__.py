"""Layer 2, the registry of stable names (functions, classes, instances, queues, schedules):
what the decorators register, outliving `DBOS.destroy()`. A leaf below `_core`: it imports no
runtime layer above `_db`, and the decorators that fill it live in `_facade`."""
