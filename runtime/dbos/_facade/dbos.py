"""`DBOS`: the process-wide facade of the seed's API (configuration, lifecycle, decorators,
workflow control). Its members are class-level so they work before and after `DBOS(config=...)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import threading
from asyncio import events as asyncio_events
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, TypeVar, overload

from .._config import (
    DBOSConfig,
    executor_id_from,
    normalize_url,
    resolve_system_database_url,
    validate_config,
)
from .._core.context import current_step, current_workflow
from .._core.handles import WorkflowHandle, WorkflowHandleAsync
from .._core.runtime import Runtime, logger, runtime_or_none, set_runtime
from .._core.sleeping import durable_sleep, durable_sleep_async
from .._core.workflows import start_workflow
from .._db.system import SystemDatabase
from .._error import DBOSException
from .._registry import queues as _queues
from .._registry import registry as _registry
from .._serialization import DEFAULT_SERIALIZER, Serializer
from .._services import startup
from .._status import StepStatus
from .._threads import DaemonPool
from . import decorators as _decorators
from .authentication import Authentication
from .classproperty import classproperty
from .communication import Communication
from .maintenance import Maintenance
from .management import Management
from .messaging import Messaging
from .operations import LAUNCHED, Caller
from .patching import Patching
from .queue import Queue
from .queues_api import QueueAdministration, QueueEnqueueing
from .schedules_api import Schedules
from .steps import Steps
from .stream_reading import StreamReading
from .versions import Versions
from .workflow_decorator import WorkflowDecorator

if TYPE_CHECKING:  # the ORM costs ~45 ms to import; only transactions need it
    from sqlalchemy.orm import Session

    from .._db.application import ApplicationDatabase

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T", bound=type)
R = TypeVar("R")
P = ParamSpec("P")

_LIBRARY_VERSION = "0.1.0"


def _configure_logging(level: str) -> None:
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] dbos: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def _application_version() -> str:
    """A hash of every registered workflow's source: changed code gets a new version, whose
    recovery leaves the old version's pending workflows alone. A workflow compiled by
    `dbos-compile build` contributes its durable shape instead, so an edit between
    checkpoints keeps the version (and the old version's runs recoverable)."""
    digest = hashlib.md5(usedforsecurity=False)
    for info in sorted(_registry.all_functions(), key=lambda i: i.name):
        if info.kind != "workflow" or _registry.is_temporary(info):
            continue
        digest.update(info.name.encode())
        if info.shape is not None:
            digest.update(f"shape:{info.shape}".encode())
            continue
        try:
            digest.update(inspect.getsource(info.func).encode())
        except (OSError, TypeError):
            pass
    digest.update(_LIBRARY_VERSION.encode())
    return digest.hexdigest()


PATCHING_VERSION = "PATCHING_ENABLED"


def _configured_version(config: DBOSConfig) -> str:
    """The configured version, else with patching one fixed version (patches, not a new
    version, carry the changes: every process recovers every run), else the source hash."""
    configured = config.get("application_version")
    if configured:
        return str(configured)
    if config.get("enable_patching"):
        return PATCHING_VERSION
    return _application_version()


class DBOS(
    Communication,
    Messaging,
    StreamReading,
    Management,
    Maintenance,
    Patching,
    QueueAdministration,
    QueueEnqueueing,
    WorkflowDecorator,
    Schedules,
    Authentication,
    Steps,
    Versions,
):
    """Configure with `DBOS(config=...)`, then `DBOS.launch()`; decorate with `@DBOS.workflow()`."""

    @classmethod
    def _caller_of(cls, instance: object | None) -> Caller:
        return LAUNCHED  # the launched runtime of this process, read at each call

    _instance: ClassVar[DBOS | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __new__(cls, *, config: DBOSConfig, fastapi: Any = None, **_ignored: Any) -> DBOS:
        with cls._lock:
            if cls._instance is not None:
                return cls._instance
            validate_config(config)
            instance = super().__new__(cls)
            instance._config = dict(config)  # type: ignore[assignment]
            instance._launched = False
            instance._listen = None
            _configure_logging(str(config.get("log_level") or "INFO"))
            cls._instance = instance
        if fastapi is not None:
            cls._serve_with(fastapi, dict(config))  # type: ignore[arg-type]
        return instance

    def __init__(self, *, config: DBOSConfig, fastapi: Any = None, **_ignored: Any) -> None:
        pass

    @classmethod
    def _serve_with(cls, app: Any, config: DBOSConfig) -> None:
        """Launch on the app's startup and destroy on its shutdown (each time it serves)."""
        from .fastapi import install_lifespan

        def launch(server_loop: asyncio.AbstractEventLoop) -> None:
            instance = cls._instance or DBOS(config=config)
            if not instance._launched:
                cls._launch(server_loop)

        install_lifespan(app, launch, cls.destroy)

    _config: DBOSConfig
    _launched: bool
    _listen: frozenset[str] | None

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def _require_instance(cls) -> DBOS:
        if cls._instance is None:
            raise DBOSException("Call DBOS(config=...) first")
        return cls._instance

    @classmethod
    def _system_database(cls, config: DBOSConfig) -> SystemDatabase:
        url = normalize_url(resolve_system_database_url(config))
        sysdb = SystemDatabase(
            url,
            schema=str(config.get("dbos_system_schema") or "dbos"),
            pool_size=int(config.get("sys_db_pool_size") or 20),
            sqlite_synchronous=str(config.get("sqlite_synchronous") or "FULL"),
        )
        bound = config.get("database_retry_timeout_sec")
        if bound is not None:
            sysdb.retry_bound_sec = float(bound)
        return sysdb

    @classmethod
    def _application_database(cls, config: DBOSConfig) -> ApplicationDatabase | None:
        """The database `@DBOS.transaction` functions use: `application_database_url`, else
        the system database itself (so the embedded SQLite default needs no set-up)."""
        url = config.get("application_database_url") or config.get("database_url")
        has_transactions = any(i.kind == "transaction" for i in _registry.all_functions())
        if not url and not has_transactions:
            return None
        from .._db.application import ApplicationDatabase

        app_db = ApplicationDatabase(
            normalize_url(url or resolve_system_database_url(config)),
            schema=str(config.get("dbos_system_schema") or "dbos"),
        )
        bound = config.get("database_retry_timeout_sec")
        app_db.initialize(180.0 if bound is None else float(bound))
        return app_db

    @classmethod
    def launch(cls) -> None:
        """Open (creating or migrating) the system database and recover pending workflows."""
        cls._launch(asyncio_events._get_running_loop())

    @classmethod
    def _launch(cls, app_loop: asyncio.AbstractEventLoop | None) -> None:
        """`launch`, with the application's event loop if it has one (the loop launch was
        called on, or a server's loop when a worker thread launches for it): queued and
        recovered async workflows run on it while it runs."""
        instance = cls._require_instance()
        with cls._lock:
            if instance._launched:
                logger.warning("DBOS.launch() was called twice; the second call does nothing")
                return
            config = instance._config
            sysdb = cls._system_database(config)
            try:
                sysdb.setup.initialize(run_migrations=bool(config.get("run_migrations", True)))
            except BaseException:
                sysdb.dispose()
                raise
            try:
                app_db = cls._application_database(config)
            except BaseException:
                sysdb.dispose()
                raise
            serializer = config.get("serializer") or DEFAULT_SERIALIZER
            if not isinstance(serializer, Serializer):
                raise DBOSException("config['serializer'] must be a dbos Serializer instance")
            runtime = Runtime(
                sysdb=sysdb,
                serializer=serializer,
                executor_id=executor_id_from(config),
                app_version=_configured_version(config),
                pool=DaemonPool(int(config.get("max_executor_threads") or 4096)),
                app_db=app_db,
                patching=bool(config.get("enable_patching")),
            )
            runtime.app_loop = app_loop
            try:
                startup.start(runtime, config, instance._listen, cls.destroy)
            except BaseException:
                runtime.shutdown()
                set_runtime(None)
                raise
            instance._launched = True

    @classmethod
    def listen_queues(cls, queues: Sequence[Queue | str]) -> None:
        """Before launch: take work only from these queues (and the internal one) in this
        process; others declared here are still recorded, so clients may enqueue to them."""
        instance = cls._require_instance()
        if instance._launched:
            raise DBOSException("DBOS.listen_queues() must be called before DBOS.launch()")
        instance._listen = frozenset(q.name if isinstance(q, Queue) else str(q) for q in queues)

    @classmethod
    def destroy(
        cls, *, destroy_registry: bool = False, workflow_completion_timeout_sec: float = 0
    ) -> None:
        """Stop this process's DBOS; decorated functions stay registered for the next one
        (queues declared in code too, unless `destroy_registry`, as in upstream's tests).
        `workflow_completion_timeout_sec`: first stop taking new work (queues, schedules) and
        give the workflows running here that long to finish; the rest are left to recovery.
        `destroy_registry`: classes and configured instances may then be registered anew
        under the names they hold (the earlier ones stay findable until then)."""
        with cls._lock:
            runtime = runtime_or_none()
            if runtime is not None:
                runtime.shutdown(drain_sec=float(workflow_completion_timeout_sec or 0))
                set_runtime(None)
            cls._instance = None
            if destroy_registry:
                _queues.forget_declared()
                _registry.new_generation()

    @classproperty
    def logger(cls) -> logging.Logger:
        return logger

    # ------------------------------------------------------------------ decorators

    @classmethod
    def step(
        cls,
        *,
        name: str | None = None,
        retries_allowed: bool = False,
        interval_seconds: float = 1.0,
        max_attempts: int = 3,
        backoff_rate: float = 2.0,
        should_retry: Callable[[Exception], Any] | None = None,
        timeout_seconds: float | None = None,
        preemptible: bool = False,
    ) -> Callable[[F], F]:
        return _decorators.step(
            name,
            retries_allowed=retries_allowed,
            interval_seconds=interval_seconds,
            max_attempts=max_attempts,
            backoff_rate=backoff_rate,
            should_retry=should_retry,
            timeout_seconds=timeout_seconds,
            preemptible=preemptible,
        )

    @classmethod
    def transaction(
        cls, isolation_level: str = "SERIALIZABLE", *, name: str | None = None
    ) -> Callable[[F], F]:
        return _decorators.transaction(isolation_level, name)

    @classproperty
    def sql_session(cls) -> Session:
        """The SQLAlchemy session of the running `@DBOS.transaction()` function."""
        from .._db.application import require_session

        return require_session()

    @classmethod
    def scheduled(
        cls, cron: str, *, queue: Queue | str | None = None, catch_up: int = 0
    ) -> Callable[[F], F]:
        """Run the workflow (or step, or transaction) below on a cron schedule (5 fields, or 6
        with seconds first), with `(scheduled_time, actual_time)` as UTC datetimes; each tick
        runs once, however many processes run the schedule. Ticks go through `queue` (default:
        the internal queue), so its limits bound overlapping ticks. Ticks missed while no
        process ran are skipped; `catch_up=n` runs up to the last `n` of them instead."""
        return _decorators.scheduled(cron, queue, catch_up)

    @classmethod
    def dbos_class(cls, class_name: str | None = None) -> Callable[[T], T]:
        return _decorators.dbos_class(class_name)

    @classmethod
    def register_instance(cls, instance: object) -> None:
        config_name = getattr(instance, "config_name", None)
        if config_name is None:
            raise DBOSException("register_instance needs an object with a config_name")
        class_name = _registry.dbos_class_name(type(instance))
        _registry.register_instance(class_name, str(config_name), instance)

    # ------------------------------------------------------------------ running

    # The overloads type the call like the function it starts: wrong arguments are an error
    # and the handle's result is the workflow's return type (awaited, for an `async def`).
    @overload
    @classmethod
    def start_workflow(
        cls, func: Callable[P, Coroutine[Any, Any, R]], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandle[R]: ...

    @overload
    @classmethod
    def start_workflow(
        cls, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandle[R]: ...

    @classmethod
    def start_workflow(
        cls, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> WorkflowHandle[Any]:
        info = _registry.startable(_registry.info_of(func))
        return start_workflow(info, _registry.bound_args(func, args), kwargs)

    @overload
    @classmethod
    async def start_workflow_async(
        cls, func: Callable[P, Coroutine[Any, Any, R]], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandleAsync[R]: ...

    @overload
    @classmethod
    async def start_workflow_async(
        cls, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandleAsync[R]: ...

    @classmethod
    async def start_workflow_async(
        cls, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> WorkflowHandleAsync[Any]:
        """`start_workflow` for async code: an async workflow runs as a task of this event
        loop (objects bound to it work inside), which nothing of the runtime's blocks."""
        from .._core.aio_workflows import start_workflow_async

        info = _registry.startable(_registry.info_of(func))
        handle = await start_workflow_async(info, _registry.bound_args(func, args), kwargs)
        return WorkflowHandleAsync(handle)

    @classmethod
    def sleep(cls, seconds: float) -> None:
        durable_sleep(seconds)

    @classmethod
    async def sleep_async(cls, seconds: float) -> None:
        await durable_sleep_async(seconds)

    @classproperty
    def workflow_id(cls) -> str | None:
        ctx = current_workflow.get()
        return ctx.workflow_id if ctx is not None else None

    @classproperty
    def step_id(cls) -> int | None:
        step = current_step.get()
        return step.step_id if step is not None else None

    @classproperty
    def step_status(cls) -> StepStatus | None:
        step = current_step.get()
        if step is None:
            return None
        attempt = step.current_attempt if step.max_attempts is not None else None
        return StepStatus(step.step_id, attempt, step.max_attempts)

    @classproperty
    def executor_id(cls) -> str:
        runtime = runtime_or_none()
        if runtime is not None:
            return runtime.executor_id
        instance = cls._instance
        return executor_id_from(instance._config if instance else {})

    @classproperty
    def application_version(cls) -> str:
        runtime = runtime_or_none()
        return runtime.app_version if runtime is not None else _application_version()


class DBOSConfiguredInstance:
    """Base for classes whose instance methods are workflows: `config_name` identifies the
    instance, so recovery in a new process finds the object created at start-up."""

    def __init__(self, config_name: str) -> None:
        self.config_name = config_name
        DBOS.register_instance(self)
