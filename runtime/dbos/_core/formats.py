"""Which format a stored value is written in.

A workflow has one format for what it stores about itself (its arguments, result and error)
and for what it publishes by default (events, stream values, messages it sends): its
decorator's `serialization_type`, or, once recorded, the format of its row, which is what a
recovered or dequeued run keeps writing in. Step outputs are always in the configured
serializer: a replay hands them back to Python code, which must get its own types again.
A call may ask for a format of its own (`serialization_type=` on `set_event`, ...).
"""

from __future__ import annotations

import inspect
import types
import typing
from datetime import date, datetime
from typing import Any

from .._registry.registry import FunctionInfo
from .._serialization import (
    DEFAULT_SERIALIZER,
    PORTABLE_FORMAT,
    PORTABLE_SERIALIZER,
    Serializer,
    WorkflowSerializationFormat,
)
from .._serialization.portable import coerce_to_hint
from .context import current_workflow
from .runtime import Runtime

_KNOWN = {member.value: member for member in WorkflowSerializationFormat}


def check_serialization_type(value: object) -> WorkflowSerializationFormat | None:
    """A `serialization_type=` argument, refused where it is written if it names no format."""
    if value is None or value is WorkflowSerializationFormat.DEFAULT:
        return None
    if isinstance(value, WorkflowSerializationFormat):
        return value
    if isinstance(value, str) and value in _KNOWN:
        member = _KNOWN[value]
        return None if member is WorkflowSerializationFormat.DEFAULT else member
    raise ValueError(
        "serialization_type must be WorkflowSerializationFormat.PORTABLE, .NATIVE or .DEFAULT "
        f"(or None), got {value!r}"
    )


def serializer_for(runtime: Runtime, serialization_type: object) -> Serializer | None:
    """The serializer a `serialization_type` names; None for the default (which depends on
    where the value is written)."""
    chosen = check_serialization_type(serialization_type)
    if chosen is WorkflowSerializationFormat.PORTABLE:
        return PORTABLE_SERIALIZER
    if chosen is WorkflowSerializationFormat.NATIVE:
        configured = runtime.serializer
        return DEFAULT_SERIALIZER if configured.name() == PORTABLE_FORMAT else configured
    return None


def workflow_serializer(runtime: Runtime, info: FunctionInfo) -> Serializer:
    """The format a new run of this workflow is recorded in."""
    return serializer_for(runtime, info.serialization_type) or runtime.serializer


def value_serializer(runtime: Runtime, serialization_type: object = None) -> Serializer:
    """The format of an event, stream value or message written here: the one asked for, else
    the running workflow's (also from its steps), else the configured serializer."""
    asked = serializer_for(runtime, serialization_type)
    if asked is not None:
        return asked
    ctx = current_workflow.get()
    if ctx is not None and ctx.serializer is not None:
        return ctx.serializer
    return runtime.serializer


def _datetime_hint(hint: Any) -> Any:
    """`datetime`, `date`, or either of them in an `Optional[...]`/`X | None`."""
    if hint in (datetime, date):
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(kinds) == 1 and kinds[0] in (datetime, date):
            return kinds[0]
    return None


def restore_portable_types(
    info: FunctionInfo, args: list[Any], kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Arguments read back from the portable format, with the datetimes and dates it wrote as
    text made datetimes and dates again where the workflow's parameters say so (what a direct
    call passed, a scheduled workflow's tick time, ...)."""
    try:
        hints = typing.get_type_hints(info.func)
    except Exception:
        hints = dict(getattr(info.func, "__annotations__", {}))
    wanted = {name: kind for name, hint in hints.items() if (kind := _datetime_hint(hint))}
    if not wanted:
        return args, kwargs
    try:
        params = list(inspect.signature(info.func).parameters.values())
    except (TypeError, ValueError):
        return args, kwargs
    if info.takes_self:
        params = params[1:]  # the stored arguments do not include self or cls
    positional = [
        coerce_to_hint(value, wanted.get(params[i].name)) if i < len(params) else value
        for i, value in enumerate(args)
    ]
    named = {key: coerce_to_hint(value, wanted.get(key)) for key, value in kwargs.items()}
    return positional, named
