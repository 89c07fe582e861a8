"""Upstream DBOS's `dbos._dbos` module, for code written against it: the names applications and
upstream's own test helpers import from there (`DBOS`, the handles, and
`_dbos_global_instance`, the current `DBOS` instance or None, read when imported: helpers check
it to tell a launched process from import time). Everything else lives in the public API.
"""

from __future__ import annotations

from typing import Any

from ._core.handles import WorkflowHandle, WorkflowHandleAsync
from ._facade.dbos import DBOS

__all__ = ["DBOS", "WorkflowHandle", "WorkflowHandleAsync"]


def __getattr__(name: str) -> Any:
    if name == "_dbos_global_instance":
        return DBOS._instance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
