"""Enqueueing a workflow by name from upstream's `EnqueueOptions`: what `DBOSClient.enqueue`
and `DBOS.enqueue_workflow_with_options` share, so a workflow enqueued either way is the same
row to the worker that runs it.

The workflow need not be registered in this process (another one may implement it). Its queue
must exist (declared in a worker's code or registered): a misspelt name is refused before
anything is written. Options set to None count as unset.

From `DBOS` (an application process) the options fall back on the caller's context for what
they leave unset (`SetWorkflowID`, `SetEnqueueOptions`, `SetWorkflowTimeout`,
`SetWorkflowAttributes`), and inside a workflow the enqueue is a child start of the caller,
recorded at its step number: a replay returns the recorded child (or raises the recorded
error) without enqueueing again. `app_version` stays unset unless given: the target may run in
another application version.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from .._db.records import now_ms
from .._error import DBOSException, DBOSQueueDeduplicatedError, DBOSSerializationError
from .._registry.queues import QueueSpec
from .._registry.roles import roles_tuple
from .._serialization import (
    Serializer,
    WorkflowSerializationFormat,
    serialize_exception,
    serialize_inputs,
)
from . import tracing
from .auth import current_auth
from .checkpoint import active_workflow, recorded_result, replay, write_checkpoint
from .context import (
    DuplicationPolicy,
    WorkflowContext,
    assigned_attributes,
    assigned_enqueue_options,
    assigned_timeout,
    attributes_text,
    check_duplication_policy,
    take_assigned_workflow_id,
)
from .enqueue_rules import check_duplication_policy as check_policy_on_queue
from .enqueue_rules import check_partition_options
from .formats import check_serialization_type, serializer_for
from .queue_lookup import require_queue
from .runtime import Runtime, get_runtime
from .time_ordered_ids import new_id
from .workflows import enqueue_or_attach

MAX_PRIORITY = 2**31 - 1


class _RequiredEnqueueOptions(TypedDict):
    workflow_name: str
    queue_name: str


class EnqueueOptions(_RequiredEnqueueOptions, total=False):
    """How to enqueue a workflow by name (`DBOSClient.enqueue`,
    `DBOS.enqueue_workflow_with_options`): its registered name and a queue (registered, or
    declared by a worker); optionally its ID, the application version that may run it, a
    timeout (seconds, counted from its dequeue), a delay (seconds before it may start), a
    deduplication ID and what a taken one does (`duplication_policy`: "reject" raises,
    "return-existing" returns the workflow holding it), a priority (1 runs first), a
    partition key, the user and roles it runs for, for a method workflow the class and
    configured-instance names, attributes, and the format of its arguments and outcome
    (`serialization_type`: PORTABLE for a worker in any language). `max_recovery_attempts`
    and `application_name` are accepted as upstream's are (the workflow's decorator sets the
    first; queues are not routed by application here)."""

    workflow_id: str
    app_version: str
    workflow_timeout: float
    delay_seconds: float
    deduplication_id: str
    duplication_policy: DuplicationPolicy
    priority: int
    max_recovery_attempts: int
    queue_partition_key: str
    authenticated_user: str
    authenticated_roles: list[str]
    serialization_type: WorkflowSerializationFormat | None
    class_name: str
    instance_name: str
    attributes: dict[str, Any]
    application_name: str | None
    otel_context: Any


_KNOWN = set(EnqueueOptions.__annotations__) | set(_RequiredEnqueueOptions.__annotations__)


@dataclass
class Resolved:
    """The options, checked, with the caller's context filled in where they left a gap."""

    workflow_name: str
    queue_name: str
    workflow_id: str | None = None
    app_version: str | None = None
    timeout_ms: int | None = None
    deadline_ms: int | None = None  # inherited from the calling workflow
    delay_seconds: float | None = None
    deduplication_id: str | None = None
    duplication_policy: str | None = None
    priority: int = 0
    partition_key: str | None = None
    authenticated_user: str | None = None
    authenticated_roles: str | None = None  # a JSON list, as stored
    class_name: str | None = None
    config_name: str | None = None
    attributes: dict[str, Any] | None = None
    otel_context: Any = None
    serialization_type: WorkflowSerializationFormat | None = None


def _text(options: Mapping[str, Any], key: str) -> str | None:
    value = options.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise DBOSException(f"Enqueue option {key!r} must be a non-empty string, got {value!r}")
    return value


def _seconds(options: Mapping[str, Any], key: str, *, positive: bool) -> float | None:
    value = options.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or (value <= 0 if positive else value < 0)
    ):
        bound = "> 0" if positive else ">= 0"
        raise DBOSException(
            f"Enqueue option {key!r} must be a number of seconds {bound}, got {value!r}"
        )
    return float(value)


def resolve(options: Mapping[str, Any], *, ambient: bool) -> Resolved:
    """Check the options (naming the first bad one, before anything is written); with
    `ambient`, fill what they leave unset from the caller's context (consuming a pending
    `SetWorkflowID`, as every workflow start does)."""
    if not isinstance(options, Mapping):
        raise DBOSException(f"Enqueue options must be a dict, got {options!r}")
    unknown = sorted(set(options) - _KNOWN)
    if unknown:
        raise DBOSException(f"Unknown enqueue option(s): {', '.join(unknown)}")
    names = {}
    for key in ("workflow_name", "queue_name"):
        value = options.get(key)
        if not isinstance(value, str) or not value:
            raise DBOSException(f"Enqueue options need {key!r} (a non-empty string), got {value!r}")
        names[key] = value
    workflow_id = options.get("workflow_id")
    if workflow_id is not None and (not isinstance(workflow_id, str) or not workflow_id.strip()):
        raise DBOSException(
            f"Invalid workflow ID {workflow_id!r}: workflow IDs must be non-empty and cannot "
            "be only whitespace."
        )
    priority = options.get("priority")
    if priority is not None and (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or not 1 <= priority <= MAX_PRIORITY
    ):
        raise DBOSException(
            f"Invalid priority {priority}. Priority must be between 1~{MAX_PRIORITY}."
        )
    serialization_type = check_serialization_type(options.get("serialization_type"))
    roles = roles_tuple(options.get("authenticated_roles"), "authenticated_roles")
    attributes = options.get("attributes")
    attributes_text(attributes)  # checks them
    resolved = Resolved(
        workflow_name=names["workflow_name"],
        queue_name=names["queue_name"],
        workflow_id=workflow_id,
        app_version=_text(options, "app_version"),
        timeout_ms=_timeout_ms(_seconds(options, "workflow_timeout", positive=True)),
        delay_seconds=_seconds(options, "delay_seconds", positive=False),
        deduplication_id=_text(options, "deduplication_id"),
        duplication_policy=check_duplication_policy(options.get("duplication_policy")),
        priority=priority or 0,
        partition_key=_text(options, "queue_partition_key"),
        authenticated_user=_text(options, "authenticated_user"),
        authenticated_roles=json.dumps(list(roles)) if roles else None,
        class_name=_text(options, "class_name"),
        config_name=_text(options, "instance_name"),
        attributes=dict(attributes) if attributes is not None else None,
        otel_context=options.get("otel_context"),
        serialization_type=serialization_type,
    )
    if ambient:
        _fill_from_context(resolved, explicit_timeout=options.get("workflow_timeout") is not None)
    check_policy_on_queue(resolved.duplication_policy, resolved.deduplication_id)
    if resolved.partition_key is not None and resolved.deduplication_id is not None:
        raise DBOSException("Deduplication is not supported for partitioned queues")
    return resolved


def _timeout_ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _fill_from_context(resolved: Resolved, *, explicit_timeout: bool) -> None:
    assigned_id = take_assigned_workflow_id()
    if resolved.workflow_id is None:
        resolved.workflow_id = assigned_id
    options = assigned_enqueue_options()
    if options is not None:
        if resolved.deduplication_id is None:
            resolved.deduplication_id = options.deduplication_id
        if resolved.duplication_policy is None:
            resolved.duplication_policy = options.duplication_policy
        if not resolved.priority and options.priority:
            resolved.priority = options.priority
        if resolved.app_version is None:
            resolved.app_version = options.app_version
        if resolved.partition_key is None:
            resolved.partition_key = options.queue_partition_key
        if resolved.delay_seconds is None:
            resolved.delay_seconds = options.delay_seconds
    if not explicit_timeout:
        timeout = assigned_timeout()
        parent = active_workflow()
        if timeout is None:  # the caller's deadline, if it runs under one
            resolved.deadline_ms = parent.deadline_ms if parent is not None else None
        elif timeout > 0:  # SetWorkflowTimeout(None) (0.0) clears an inherited one
            resolved.timeout_ms = int(timeout * 1000)
    ambient_attributes = assigned_attributes()
    if ambient_attributes is not None:
        resolved.attributes = json.loads(ambient_attributes) | (resolved.attributes or {})
    if resolved.authenticated_user is None and resolved.authenticated_roles is None:
        auth = current_auth().row_columns()  # the caller's user and roles, as a start inherits
        resolved.authenticated_user = auth["authenticated_user"]
        resolved.authenticated_roles = auth["authenticated_roles"]


def check_on_queue(resolved: Resolved, spec: QueueSpec) -> None:
    """The queue's partition rules. A key on a queue that is not partitioned is the seed's
    spelling (its workflows run one at a time, in order), as a client always could."""
    check_partition_options(spec, resolved.partition_key, resolved.deduplication_id, seed_key=True)


def stored_inputs(
    serializer: Serializer, resolved: Resolved, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> str:
    """The arguments as stored, or a serialization error naming the workflow."""
    try:
        return serialize_inputs(serializer, args, dict(kwargs))
    except DBOSSerializationError as exc:
        raise DBOSSerializationError(
            f"The arguments of {resolved.workflow_name!r} cannot be serialized "
            f"({exc.message}); nothing was written"
        ) from None


def build_row(
    runtime: Runtime,
    resolved: Resolved,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    workflow_id: str,
    parent_id: str | None,
    partitioned: bool,
) -> dict[str, Any]:
    """The ENQUEUED (or DELAYED) row, with the arguments serialized (or refused, naming the
    workflow, before anything is written)."""
    serializer = serializer_for(runtime, resolved.serialization_type) or runtime.serializer
    inputs = stored_inputs(serializer, resolved, args, kwargs)
    now = now_ms()
    delay = resolved.delay_seconds
    row: dict[str, Any] = {
        "workflow_uuid": workflow_id,
        "status": "ENQUEUED" if delay is None else "DELAYED",
        "name": resolved.workflow_name,
        "class_name": resolved.class_name,
        "config_name": resolved.config_name,
        "inputs": inputs,
        "serialization": serializer.name(),
        "executor_id": None,
        "application_version": resolved.app_version,  # None: the latest version runs it
        "now": now,
        "recovery_attempts": 0,
        "owner_xid": None,
        "workflow_timeout_ms": resolved.timeout_ms,
        "workflow_deadline_epoch_ms": resolved.deadline_ms,
        "parent_workflow_id": parent_id,
        "queue_name": resolved.queue_name,
        "authenticated_user": resolved.authenticated_user,
        "authenticated_roles": resolved.authenticated_roles,
        "assumed_role": None,
        "forked_from": None,
        "trace_context": tracing.start_context(
            resolved.workflow_name, workflow_id, resolved.queue_name, resolved.otel_context
        ),
        "priority": resolved.priority,
        "deduplication_id": resolved.deduplication_id,
        "queue_partition_key": resolved.partition_key,
        "started_at_epoch_ms": None,
        "delay_until_epoch_ms": None if delay is None else now + int(delay * 1000),
        "debounce_deadline_epoch_ms": None,
        "attributes": attributes_text(resolved.attributes),
    }
    if partitioned:
        row["partitioned"] = True  # the row takes its partition's fair round
    return row


def enqueue_from_workflow_context(
    runtime: Runtime,
    resolved: Resolved,
    spec: QueueSpec,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    parent: WorkflowContext | None,
    step_id: int | None,
) -> str:
    """`DBOS.enqueue_workflow_with_options`: enqueue (or attach to the holder of the
    deduplication ID); inside a workflow, recorded as its child start at `step_id`, the
    error of a refused duplicate too, so a replay raises it again without enqueueing."""
    if parent is not None and step_id is not None:
        default_id = f"{parent.workflow_id}-{step_id}"
    else:
        default_id = new_id()
    workflow_id = resolved.workflow_id or default_id
    row = build_row(
        runtime,
        resolved,
        args,
        kwargs,
        workflow_id=workflow_id,
        parent_id=parent.workflow_id if parent is not None else None,
        partitioned=spec.partition_queue,
    )
    started = now_ms()
    try:
        inserted, workflow_id = enqueue_or_attach(runtime, row, resolved.duplication_policy)
    except DBOSQueueDeduplicatedError as error:
        if parent is not None and step_id is not None:
            text = serialize_exception(runtime.serializer, error)
            write_checkpoint(runtime, parent, step_id, resolved.workflow_name, None, text, started)
        raise
    if inserted and row["status"] == "DELAYED" and runtime.direct_start is not None:
        runtime.direct_start.delay_until(row["delay_until_epoch_ms"])
    if parent is not None and step_id is not None:
        write_checkpoint(
            runtime, parent, step_id, resolved.workflow_name, None, None, started, workflow_id
        )
    return workflow_id


def recorded_child(
    runtime: Runtime, parent: WorkflowContext, step_id: int, workflow_name: str
) -> str | None:
    """A replayed parent's enqueue at `step_id`: the child it recorded (or the error it
    raised, raised again); None on a first run."""
    if not parent.recorded:
        return None
    record = replay(parent, step_id, workflow_name)
    if record is None:
        return None
    if record.error is not None:
        recorded_result(runtime, record)  # raises what the first run raised
    return record.child_workflow_id


def enqueue_with_options(
    options: Mapping[str, Any],
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    step_id: int | None = None,
) -> str:
    """`DBOS.enqueue_workflow_with_options`: the ID of the workflow enqueued (or attached to,
    or recorded by a previous run of the calling workflow). `step_id`: taken by an async
    caller at call time; else taken here."""
    runtime = get_runtime()
    parent = active_workflow()
    if parent is not None and step_id is None:
        step_id = parent.take_step_id()
    resolved = resolve(options, ambient=True)
    if parent is not None and step_id is not None:
        child = recorded_child(runtime, parent, step_id, resolved.workflow_name)
        if child is not None:
            return child
    spec = require_queue(runtime, resolved.queue_name)
    check_on_queue(resolved, spec)
    return enqueue_from_workflow_context(runtime, resolved, spec, args, kwargs, parent, step_id)
