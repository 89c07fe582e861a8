"""Debouncing: calls with one key within a period collapse into one run with the last arguments.

All of it lives in the system database, so it costs no thread per key and works across
processes: the waiting run is a DELAYED workflow holding the deduplication ID `<workflow>-<key>`
of its queue. A call within its window moves its start to `now + period` (never past the
window's deadline, `debounce_timeout_sec` after the first call) and replaces its arguments and
application version (so a call after a deploy adopts a window opened by the previous version);
a call that opens a window under `SetWorkflowID` gives the run that ID (a later call with the
same key joins it);
when it comes due, the dispatcher moves it to its queue and the key's deduplication ID is given
back, so the next call opens a new window. A call from a workflow is a step: a replay finds the
run it debounced into instead of debouncing again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._db.records import Deduplicated, now_ms
from .._error import DBOSException
from .._registry.registry import FunctionInfo
from .checkpoint import as_step
from .context import EnqueueOptions, take_assigned_workflow_id
from .enqueue_rules import check_partition_options
from .formats import workflow_serializer
from .inputs import bind_target, encode_inputs
from .queue_lookup import require_queue
from .runtime import Runtime, get_runtime
from .time_ordered_ids import new_id
from .workflows import QueuedStart, new_workflow_row

DEBOUNCE = "DBOS.debounce"
_ATTEMPTS = 20  # races with a window closing or opening elsewhere are retried this often


def check_debounce_call(key: object, period_sec: object) -> float:
    """The period in seconds, or an error naming the bad key or period."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"A debounce key must be a non-empty string, got {key!r}")
    if isinstance(period_sec, bool) or not isinstance(period_sec, (int, float)):
        raise TypeError(f"debounce period must be seconds, got {period_sec!r}")
    if not math.isfinite(period_sec) or period_sec < 0:
        raise ValueError(f"debounce period must be >= 0 seconds, got {period_sec}")
    return float(period_sec)


def check_debounce_timeout(timeout_sec: object) -> float | None:
    if timeout_sec is None:
        return None
    if (
        isinstance(timeout_sec, bool)
        or not isinstance(timeout_sec, (int, float))
        or not math.isfinite(timeout_sec)
        or timeout_sec <= 0
    ):
        raise ValueError(f"debounce_timeout_sec must be a positive number, got {timeout_sec!r}")
    return float(timeout_sec)


def refuse_conflicting_options(
    *,
    deduplication_id: object = None,
    delay_seconds: object = None,
    priority: object = None,
    partition_key: object = None,
    duplication_policy: object = None,
) -> None:
    """A debounce owns its run's deduplication ID (the key) and delay (the period): options
    setting them, or others no debounced run can honour, are refused (upstream's messages)."""
    if deduplication_id is not None:
        raise DBOSException(
            "Cannot debounce a workflow with a deduplication_id set: the debounce key is used "
            "as the workflow's deduplication ID."
        )
    if delay_seconds is not None:
        raise DBOSException(
            "Cannot debounce a workflow with a delay set: the debounce period controls the "
            "workflow's delay."
        )
    if priority is not None:
        raise DBOSException(
            "Cannot debounce a workflow with a priority set: priority is not supported for "
            "debounced workflows."
        )
    if partition_key is not None:
        raise DBOSException(
            "Cannot debounce a workflow with a queue partition key set: partitioned queues do "
            "not support deduplication, which debouncing requires."
        )
    if duplication_policy == "return-existing":
        raise DBOSException(
            "Cannot debounce a workflow with duplication_policy 'return-existing': a debounce "
            "owns the workflow's deduplication behavior."
        )


@dataclass(frozen=True)
class Window:
    """What one debounce call writes: the run's inputs and where it waits."""

    workflow_name: str
    key: str
    queue_name: str
    inputs: str
    serialization: str
    application_version: str | None
    period_sec: float
    timeout_sec: float | None

    @property
    def deduplication_id(self) -> str:
        return f"{self.workflow_name}-{self.key}"


def debounce_into(runtime: Runtime, window: Window, new_row: Callable[[], dict[str, Any]]) -> str:
    """Join the key's open window (pushing its start back) or open one with `new_row()`; the
    ID of the run the call debounced into."""
    for _ in range(_ATTEMPTS):
        now = now_ms()
        due = now + int(window.period_sec * 1000)
        extended = runtime.sysdb.queues.extend_debounce(
            window.queue_name,
            window.deduplication_id,
            window.inputs,
            window.serialization,
            window.application_version,
            due,
        )
        if extended is not None:
            _wake_at(runtime, due)
            return extended
        row = new_row()
        deadline = None if window.timeout_sec is None else now + int(window.timeout_sec * 1000)
        row["deduplication_id"] = window.deduplication_id
        row["status"] = "DELAYED"
        row["delay_until_epoch_ms"] = due if deadline is None else min(due, deadline)
        row["debounce_deadline_epoch_ms"] = deadline
        try:
            if runtime.sysdb.queues.enqueue_workflow(row):
                _wake_at(runtime, row["delay_until_epoch_ms"])
            # Not inserted: a workflow with this (pinned) ID exists already, and it is the run
            # this call stands for (`SetWorkflowID` is an idempotency key).
            return str(row["workflow_uuid"])
        except Deduplicated:
            continue  # a window opened meanwhile (here or elsewhere): extend that one
    raise DBOSException(
        f"Could not debounce {window.workflow_name!r} with key {window.key!r}: "
        "its window kept changing"
    )


def debounce(
    info: FunctionInfo,
    key: str,
    period_sec: float,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timeout_sec: float | None,
    queue_name: str,
) -> str:
    """The ID of the workflow run this call debounces into (waiting, with these arguments)."""
    period = check_debounce_call(key, period_sec)
    pinned_id = take_assigned_workflow_id()  # the run's ID, should this call open a window
    return str(
        as_step(
            DEBOUNCE,
            _debounce,
            info,
            key,
            period,
            args,
            kwargs,
            timeout_sec,
            queue_name,
            pinned_id,
        )
    )


def _debounce(
    info: FunctionInfo,
    key: str,
    period_sec: float,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timeout_sec: float | None,
    queue_name: str,
    pinned_id: str | None,
) -> str:
    runtime = get_runtime()
    spec = require_queue(runtime, queue_name)  # a misspelt name is refused here
    check_partition_options(spec, None, f"{info.name}-{key}")
    inputs = encode_inputs(runtime, info, args, kwargs)
    class_name, config_name = bind_target(info, args)
    window = Window(
        info.name,
        key,
        queue_name,
        inputs,
        workflow_serializer(runtime, info).name(),
        runtime.app_version,
        period_sec,
        timeout_sec,
    )

    def new_row() -> dict[str, Any]:
        return new_workflow_row(
            runtime,
            info,
            pinned_id or new_id(),
            None,
            inputs,
            class_name,
            config_name,
            None,
            None,
            None,
            QueuedStart(queue_name, EnqueueOptions(delay_seconds=0.0)),
        )

    return debounce_into(runtime, window, new_row)


def _wake_at(runtime: Runtime, epoch_ms: int) -> None:
    if runtime.direct_start is not None:
        runtime.direct_start.delay_until(epoch_ms)
