"""dbos: durable workflows in the DBOS style, over SQLite (embedded) or PostgreSQL."""

from . import error
from ._async import WorkflowHandleAsync
from ._config import DBOSConfig
from ._context import SetWorkflowID, SetWorkflowTimeout
from ._dbos import DBOS, DBOSConfiguredInstance
from ._serialization import JSONSerializer, PickleSerializer, Serializer
from ._status import StepInfo, StepStatus, WorkflowStatus, WorkflowStatusString
from ._workflows import WorkflowHandle

__all__ = [
    "DBOS",
    "DBOSConfig",
    "DBOSConfiguredInstance",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
    "SetWorkflowID",
    "SetWorkflowTimeout",
    "StepInfo",
    "StepStatus",
    "WorkflowHandle",
    "WorkflowHandleAsync",
    "WorkflowStatus",
    "WorkflowStatusString",
    "error",
]
