"""The rows of a batch enqueue (`DBOSClient.enqueue_many`): each exactly the row one enqueue
with the same options writes (`options_enqueue.build_row`), built in one pass.

What the options decide (the queue, limits, version, timeout, attributes, the creation time)
is worked out once for the batch, as the first row; each further row differs only in its
workflow ID, its arguments and its trace context. Arguments passed as the same object (a
list of one call repeated, `[(tenant,)] * n`) are serialized once. Workflow IDs are the
runtime's time-ordered ones (`time_ordered_ids`), drawn in one read for the batch and given in
ascending order, so the rows go into each index one after another.
Positional arguments of plain JSON scalars, the common case of a batch, are encoded with the
default serializer's own JSON encoder directly, skipping its check of the envelope around
them: the text is the one `serialize_inputs` writes (tested against it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._serialization import JSONSerializer
from .._serialization.json_encode import _SCALARS, _encode_json
from . import tracing
from .formats import serializer_for
from .options_enqueue import Resolved, build_row, stored_inputs
from .runtime import Runtime
from .time_ordered_ids import new_ids

Call = tuple[Sequence[Any], Mapping[str, Any]]

# `serialize_inputs` of positional arguments alone, around their JSON list (compact
# separators, as the default serializer's encoder writes the envelope).
_ARGS_HEAD = '{"args":'
_NO_KWARGS_TAIL = ',"kwargs":{}}'


def plain_inputs(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str | None:
    """`serialize_inputs(JSONSerializer(), args, kwargs)` for positional arguments that are
    all plain JSON scalars, without the serializer's walk; None for any other call."""
    if kwargs or not _SCALARS.issuperset(map(type, args)):
        return None
    try:
        return _ARGS_HEAD + _encode_json(list(args)) + _NO_KWARGS_TAIL
    except ValueError:  # NaN/inf or an int past the digit limit: the serializer tags those
        return None


def build_rows(
    runtime: Runtime, resolved: Resolved, calls: Sequence[Call], *, partitioned: bool
) -> list[dict[str, Any]]:
    """One ENQUEUED (or DELAYED) row per call; a call's arguments that cannot be serialized
    raise before any row is written."""
    if not calls:
        return []
    ids = new_ids(len(calls))
    first_args, first_kwargs = calls[0]
    template = build_row(
        runtime,
        resolved,
        first_args,
        first_kwargs,
        workflow_id=ids[0],
        parent_id=None,
        partitioned=partitioned,
    )
    rows = [template]
    serializer = serializer_for(runtime, resolved.serialization_type) or runtime.serializer
    plain = type(serializer) is JSONSerializer
    seen: dict[tuple[int, int], str] = {(id(first_args), id(first_kwargs)): template["inputs"]}
    name, queue, otel = resolved.workflow_name, resolved.queue_name, resolved.otel_context
    for workflow_id, (args, kwargs) in zip(ids[1:], calls[1:], strict=True):
        key = (id(args), id(kwargs))
        inputs = seen.get(key)
        if inputs is None:
            inputs = plain_inputs(args, kwargs) if plain else None
            if inputs is None:
                inputs = stored_inputs(serializer, resolved, args, kwargs)
            seen[key] = inputs
        row = template.copy()
        row["workflow_uuid"] = workflow_id
        row["inputs"] = inputs
        row["trace_context"] = tracing.start_context(name, workflow_id, queue, otel)
        rows.append(row)
    return rows
