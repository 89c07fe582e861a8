"""`DBOSClient`: the system database from a process that runs no workflows (a web tier, a
script). It enqueues workflows by name, sends messages, reads events, results and streams,
lists, cancels, resumes and forks, without registering functions or calling launch. What it
starts runs on the workers: resumes and forks go on a queue, never onto a thread here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

from .._config import listen_url_from, mask_url, normalize_url, resolve_system_database_url
from .._core.enqueue_batch import build_rows
from .._core.events import GetEvent
from .._core.handles import WorkflowHandle, WorkflowHandleAsync
from .._core.options_enqueue import (
    EnqueueOptions,
    Resolved,
    build_row,
    check_on_queue,
    resolve,
)
from .._core.runtime import Runtime
from .._core.time_ordered_ids import new_id
from .._core.waiting import run_call, run_call_async
from .._core.workflows import enqueue_or_attach
from .._db.system import SystemDatabase
from .._error import (
    DBOSDatabaseConnectionError,
    DBOSException,
)
from .._registry.queues import QueueSpec, spec_from_row
from .._serialization import DEFAULT_SERIALIZER, Serializer
from .._threads import DaemonPool
from .management import Management
from .messaging import Messaging
from .operations import Caller, ClientCaller
from .queues_api import QueueAdministration
from .schedules_api import ClientSchedules
from .stream_reading import StreamReading
from .transactional import TransactionalClient
from .versions import Versions

# The keyword arguments of a call given as an args tuple alone (never mutated: serializing
# copies it).
_NO_KWARGS: dict[str, Any] = {}


class DBOSClient(
    Messaging,
    Management,
    StreamReading,
    QueueAdministration,
    TransactionalClient,
    ClientSchedules,
    Versions,
):
    """A process's handle on a DBOS system database it does not run workflows from.

    `system_database_url` names the database (`database_url` and `application_database_url`,
    upstream's older spellings, name the application database beside it). The connection is
    checked at once, and a database that cannot be reached raises here, unless `lazy`, which
    connects on first use (`check_connection()` checks explicitly). The client never migrates
    the schema: a DBOS application must have created it. `use_listen_notify` (default: on, off
    when `lazy`) wakes waits on results, events and streams through the database's
    notifications (PostgreSQL) or its change poller (SQLite); `system_database_listen_url` is
    PostgreSQL reached directly when `system_database_url` goes through PgBouncer.
    `retry_connection_errors=False` makes an operation that loses its connection raise instead
    of riding the outage out. `system_database_polling_concurrency` is accepted for upstream
    compatibility: waits here do not poll the database each on their own.
    """

    def __init__(
        self,
        database_url: str | None = None,
        *,
        system_database_url: str | None = None,
        application_database_url: str | None = None,
        dbos_system_schema: str | None = "dbos",
        serializer: Serializer | None = None,
        system_database_pool_size: int | None = None,
        system_database_polling_concurrency: int | None = None,
        use_listen_notify: bool | None = None,
        system_database_listen_url: str | None = None,
        lazy: bool = False,
        retry_connection_errors: bool = True,
    ) -> None:
        if lazy and use_listen_notify:
            raise DBOSException(
                "A DBOSClient cannot be both lazy and use_listen_notify: the notification "
                "listener connects at once"
            )
        app_url = database_url or application_database_url
        if not system_database_url and not app_url:
            raise DBOSException("DBOSClient needs system_database_url= (or database_url=)")
        url = system_database_url or resolve_system_database_url(
            {"name": "dbos-client", "application_database_url": app_url}
        )
        system_url = normalize_url(url)
        listen_url = listen_url_from(
            {"name": "dbos-client", "system_database_listen_url": system_database_listen_url},
            system_url,
        )
        self._url = url
        self._listen = use_listen_notify if use_listen_notify is not None else not lazy

        def connect() -> Runtime:
            return _connect(
                system_url,
                schema=dbos_system_schema or "dbos",
                pool_size=system_database_pool_size or 5,
                serializer=serializer or DEFAULT_SERIALIZER,
                listen=self._listen,
                listen_url=listen_url,
                retry_connection_errors=retry_connection_errors,
            )

        self._caller = ClientCaller(connect)
        if not lazy:
            self._caller.runtime  # noqa: B018  (connects, raising if it cannot)

    @classmethod
    def _caller_of(cls, instance: object | None) -> Caller | None:
        return instance._caller if isinstance(instance, DBOSClient) else None

    @property
    def _runtime(self) -> Runtime:
        return self._caller.runtime

    def check_connection(self) -> None:
        """Raise if the system database cannot be reached (connecting a lazy client)."""
        self._runtime.sysdb.setup.check_connection()

    async def check_connection_async(self) -> None:
        await asyncio.to_thread(self.check_connection)

    def destroy(self) -> None:
        runtime = self._caller.connected
        if runtime is not None:
            runtime.shutdown()

    def __enter__(self) -> DBOSClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.destroy()

    def __repr__(self) -> str:
        return f"DBOSClient({mask_url(self._url)})"

    # ------------------------------------------------------------------ enqueue

    def _queue_spec(self, queue_name: str) -> QueueSpec:
        row = self._runtime.sysdb.queue_table.queue_row(queue_name)
        if row is None:
            raise DBOSException(
                f"No queue named {queue_name!r} on this system database: register it "
                "(DBOSClient.register_queue, DBOS.register_queue) or declare it with Queue(...) "
                "in the workers (they record their queues when they launch); nothing was "
                "enqueued"
            )
        return spec_from_row(row)

    def _prepare(
        self, options: EnqueueOptions, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> tuple[Resolved, dict[str, Any]]:
        """The options checked (the queue's rules too) and the row they make; nothing is
        written yet."""
        resolved = resolve(options, ambient=False)
        spec = self._queue_spec(resolved.queue_name)
        check_on_queue(resolved, spec)
        row = build_row(
            self._runtime,
            resolved,
            args,
            kwargs,
            workflow_id=resolved.workflow_id or new_id(),
            parent_id=None,
            partitioned=spec.partition_queue,
        )
        return resolved, row

    def enqueue(self, options: EnqueueOptions, *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
        """Enqueue workflow `options["workflow_name"]` on `options["queue_name"]` (see
        `EnqueueOptions`); with `duplication_policy="return-existing"` a taken deduplication ID
        returns a handle on the workflow holding it."""
        resolved, row = self._prepare(options, args, kwargs)
        _, workflow_id = enqueue_or_attach(self._runtime, row, resolved.duplication_policy)
        return WorkflowHandle(workflow_id, runtime=self._runtime)

    async def enqueue_async(
        self, options: EnqueueOptions, *args: Any, **kwargs: Any
    ) -> WorkflowHandleAsync[Any]:
        handle = await asyncio.to_thread(lambda: self.enqueue(options, *args, **kwargs))
        return WorkflowHandleAsync(handle)

    def enqueue_many(
        self,
        options: EnqueueOptions,
        calls: Sequence[tuple[Sequence[Any], dict[str, Any]] | Sequence[Any]],
    ) -> list[WorkflowHandle[Any]]:
        """Enqueue one workflow per entry of `calls` (an args tuple, or (args, kwargs)) in one
        transaction: all are enqueued or, on a duplicate deduplication ID, none."""
        if options.get("workflow_id") or options.get("deduplication_id"):
            raise DBOSException("enqueue_many takes no workflow_id or deduplication_id option")
        resolved = resolve(options, ambient=False)
        spec = self._queue_spec(resolved.queue_name)
        check_on_queue(resolved, spec)
        parsed: list[tuple[Sequence[Any], dict[str, Any]]] = []
        for call in calls:
            if (
                isinstance(call, tuple)
                and len(call) == 2
                and isinstance(call[0], (tuple, list))
                and isinstance(call[1], dict)
            ):
                parsed.append((call[0], call[1]))
            else:
                parsed.append((call, _NO_KWARGS))
        rows = build_rows(self._runtime, resolved, parsed, partitioned=spec.partition_queue)
        if not rows:
            return []
        self._runtime.sysdb.queues.enqueue_many(rows)
        runtime = self._runtime
        return [WorkflowHandle(r["workflow_uuid"], runtime=runtime) for r in rows]

    # ------------------------------------------------------------------ messages, events

    def get_event(self, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        return run_call(GetEvent(workflow_id, key, timeout_seconds, runtime=self._runtime))

    async def get_event_async(self, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        return await run_call_async(
            GetEvent(workflow_id, key, timeout_seconds, runtime=self._runtime)
        )


def _connect(
    url: URL,
    *,
    schema: str,
    pool_size: int,
    serializer: Serializer,
    listen: bool,
    listen_url: URL | None,
    retry_connection_errors: bool,
) -> Runtime:
    """Open a client's runtime: the system database, checked once (a client does not wait for
    a database to come up, nor migrate it), and the notifier its waits wake on."""
    sysdb = SystemDatabase(url, schema=schema, pool_size=pool_size)
    if not retry_connection_errors:
        sysdb.retry_bound_sec = 0.0
    try:
        sysdb.setup.initialize(run_migrations=False, wait=False)
        sysdb.raw.open_one()  # the connection its calls use, before the notifier takes one
    except DBOSDatabaseConnectionError as exc:
        sysdb.dispose()
        if isinstance(exc.__cause__, sa.exc.DBAPIError):
            raise exc.__cause__ from None  # upstream's clients raise the driver's error here
        raise
    except BaseException:
        sysdb.dispose()
        raise
    runtime = Runtime(
        sysdb=sysdb,
        serializer=serializer,
        executor_id="dbos-client",
        app_version="",
        pool=DaemonPool(16, name="dbos-client"),
    )
    from .._services.notifier import start_notifier

    runtime.services.append(start_notifier(runtime, listen, listen_url))
    return runtime
