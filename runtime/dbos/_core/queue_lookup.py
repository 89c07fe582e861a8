"""Which queue an enqueue names: one declared in this process's code, or one registered in the
system database. An enqueue on neither is refused before anything is written (a misspelt
queue name would otherwise leave its workflow waiting forever on a queue nobody serves).

Registered queues are known from the dispatcher's last read of the `queues` table, so an
enqueue costs no query; a name not seen yet (registered a moment ago by another process) is
read once and remembered.
"""

from __future__ import annotations

from .._error import DBOSException
from .._registry import queues as _queues
from .._registry.queues import QueueSpec, spec_from_row
from .runtime import Runtime


def find_queue(runtime: Runtime, name: str) -> QueueSpec | None:
    declared = _queues.get_queue(name)
    if declared is not None:
        return declared
    spec: QueueSpec | None = runtime.registered_queues.get(name)
    if spec is not None:
        return spec
    row = runtime.sysdb.queue_table.queue_row(name)
    if row is None:
        return None
    spec = spec_from_row(row)
    if not spec.declared_in_code:
        runtime.registered_queues[name] = spec
    return spec


def require_queue(runtime: Runtime, name: str) -> QueueSpec:
    if not isinstance(name, str) or not name:
        raise DBOSException(f"A queue name must be a non-empty string, got {name!r}")
    spec = find_queue(runtime, name)
    if spec is None:
        raise DBOSException(
            f"No queue named {name!r}: register it first (DBOS.register_queue({name!r}, ...) "
            "or DBOSClient.register_queue), or declare it with Queue(...); nothing was enqueued"
        )
    return spec
