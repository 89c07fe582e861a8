"""`@DBOS.workflow()`, as part of the DBOS facade: registration and wrapper are `decorators`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .._serialization import WorkflowSerializationFormat
from . import decorators as _decorators

F = TypeVar("F", bound=Callable[..., Any])


class WorkflowDecorator:
    @classmethod
    def workflow(
        cls,
        *,
        name: str | None = None,
        max_recovery_attempts: int | None = 100,
        serialization_type: WorkflowSerializationFormat | None = None,
    ) -> Callable[[F], F]:
        """Make the function below a durable workflow. `serialization_type`:
        `WorkflowSerializationFormat.PORTABLE` records its arguments, result and error, and by
        default its events, stream values and messages, in upstream DBOS's portable JSON, which
        every DBOS implementation reads (and a client in any language may enqueue it);
        `.NATIVE` in this process's Python format; the default, the configured serializer."""
        return _decorators.workflow(name, max_recovery_attempts, serialization_type)
