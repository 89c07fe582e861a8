"""What `DBOS.launch()` starts, in order, and hands to the runtime to stop in reverse."""

from __future__ import annotations

from collections.abc import Callable

from .._config import DBOSConfig, listen_url_from, park_after_from
from .._core import tracing
from .._core.runtime import Runtime, set_runtime
from .._registry import queues as _queues
from .deadlines import DeadlineWatcher
from .dispatcher import QueueDispatcher
from .heartbeat import DEFAULT_EXECUTOR_TIMEOUT_SEC, Heartbeat
from .notifier import start_notifier
from .recovery import recover_pending
from .retention import RetentionService
from .scheduler import Scheduler, ScheduleSettings
from .shutdown import GracefulShutdown, ShutdownSettings
from .versions import register_version


def start(
    runtime: Runtime,
    config: DBOSConfig,
    listen: frozenset[str] | None = None,
    destroy: Callable[[], None] | None = None,
) -> None:
    """Start the services, make the runtime current, recover, then begin dispatching; last,
    the graceful stop on SIGTERM, which ends with `destroy` (`DBOS.destroy`)."""
    tracing.configure(config.get("otel_tracer_provider"), bool(config.get("otel_tracing", True)))
    timeout = float(config.get("executor_timeout_sec") or DEFAULT_EXECUTOR_TIMEOUT_SEC)
    runtime.park_policy.after_sec = park_after_from(config)
    watcher = DeadlineWatcher(runtime)
    runtime.deadlines = watcher
    runtime.services.append(watcher)
    runtime.services.append(
        start_notifier(
            runtime,
            bool(config.get("use_listen_notify", True)),
            listen_url_from(config, runtime.sysdb.url),
        )
    )
    runtime.services.append(Heartbeat(runtime, timeout))
    set_runtime(runtime)
    for spec in _queues.all_queues():  # so clients and the admin tools see them
        runtime.sysdb.queue_table.record_declared_queue(spec.row())
    register_version(runtime, config.get("name"))
    recover_pending(runtime, timeout)
    dispatcher = QueueDispatcher(runtime, runtime.pool.max_threads, listen)
    runtime.direct_start = dispatcher
    runtime.services.append(dispatcher)
    runtime.scheduler = Scheduler(runtime, ScheduleSettings.from_config(config))
    runtime.services.append(runtime.scheduler)
    if RetentionService.wanted(config):
        runtime.services.append(RetentionService(runtime, config))
    if destroy is not None:
        runtime.services.append(
            GracefulShutdown(runtime, ShutdownSettings.from_config(config), destroy)
        )
