"""dbos: durable workflows in the DBOS style, over SQLite (embedded) or PostgreSQL."""

from typing import TYPE_CHECKING, Any

from . import error
from ._config import DBOSConfig
from ._core.auth import DBOSContextSetAuth
from ._core.context import (
    DuplicationPolicy,
    SetEnqueueOptions,
    SetWorkflowAttributes,
    SetWorkflowID,
    SetWorkflowTimeout,
)
from ._core.handles import WorkflowHandle, WorkflowHandleAsync
from ._core.messages import SendMessage
from ._core.options_enqueue import EnqueueOptions
from ._facade.client import DBOSClient
from ._facade.dbos import DBOS, DBOSConfiguredInstance
from ._facade.debouncer import Debouncer, DebouncerClient
from ._facade.queue import Queue
from ._facade.schedules_api import ClientScheduleInput, ScheduleInput
from ._registry.queues import QueueRateLimit
from ._serialization import (
    DBOSPortableJSONSerializer,
    JSONSerializer,
    PickleSerializer,
    PortableWorkflowError,
    Serializer,
    WorkflowSerializationFormat,
)
from ._status import (
    StepInfo,
    StepStatus,
    VersionInfo,
    WorkflowSchedule,
    WorkflowStatus,
    WorkflowStatusString,
)

if TYPE_CHECKING:
    from ._facade.async_datasource import AsyncSQLAlchemyDatasource as AsyncSQLAlchemyDatasource
    from ._facade.datasource import SQLAlchemyDatasource as SQLAlchemyDatasource


def __getattr__(name: str) -> Any:
    """`AsyncSQLAlchemyDatasource` on first use: SQLAlchemy's asyncio layer needs greenlet,
    which `import dbos` must not (the `async` extra brings it)."""
    if name == "AsyncSQLAlchemyDatasource":
        from ._facade.async_datasource import AsyncSQLAlchemyDatasource

        return AsyncSQLAlchemyDatasource
    if name == "SQLAlchemyDatasource":  # on first use: SQLAlchemy's ORM costs `import dbos`
        from ._facade.datasource import SQLAlchemyDatasource

        return SQLAlchemyDatasource
    raise AttributeError(f"module 'dbos' has no attribute {name!r}")


__all__ = [
    "ClientScheduleInput",
    "DBOS",
    "DBOSClient",
    "DBOSConfig",
    "DBOSConfiguredInstance",
    "DBOSContextSetAuth",
    "DBOSPortableJSONSerializer",
    "Debouncer",
    "DebouncerClient",
    "DuplicationPolicy",
    "EnqueueOptions",
    "JSONSerializer",
    "PickleSerializer",
    "PortableWorkflowError",
    "Queue",
    "QueueRateLimit",
    "SQLAlchemyDatasource",
    "ScheduleInput",
    "SendMessage",
    "Serializer",
    "SetEnqueueOptions",
    "SetWorkflowAttributes",
    "SetWorkflowID",
    "SetWorkflowTimeout",
    "StepInfo",
    "StepStatus",
    "VersionInfo",
    "WorkflowHandle",
    "WorkflowHandleAsync",
    "WorkflowSchedule",
    "WorkflowStatus",
    "WorkflowSerializationFormat",
    "WorkflowStatusString",
    "error",
]
