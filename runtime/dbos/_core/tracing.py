"""OpenTelemetry spans of workflows and steps, when the application traces.

Nothing here imports OpenTelemetry. Spans are made only when the application already uses it:
a provider given as `otel_tracer_provider` in the config, or a global provider the application
set. The global provider is never set or replaced here: an SDK that installs its own breaks
the application's exporters (upstream's TypeScript users hit exactly that, ts#1199). Without a
provider every hook below costs a dictionary lookup, so the step hot path stays as it was.

A workflow's row keeps the W3C `traceparent` of a short span marking its creation; the span of
every execution (the first, a recovery, a dequeue on another worker) is a child of it, so a
recovered workflow's trace continues the original one.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any

from .._error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSDatabaseConnectionError,
    DBOSWorkflowAbandonedError,
    DBOSWorkflowCancelledError,
)
from .parking import WorkflowParked

_TRACER_NAME = "dbos"
_NULL: AbstractContextManager[None] = nullcontext()

_enabled = True
_provider: Any = None
# The tracer of the provider last asked for, kept with the provider itself (not its id, which
# a new provider could reuse).
_cached: tuple[Any, Any] | None = None


def configure(provider: Any = None, enabled: bool = True) -> None:
    """Called at launch with the config's `otel_tracer_provider` and `otel_tracing`."""
    global _enabled, _provider, _cached
    _enabled = enabled
    _provider = provider
    _cached = None


def _tracer() -> Any | None:
    global _cached
    if not _enabled:
        return None
    provider = _provider
    if provider is None:
        trace = sys.modules.get("opentelemetry.trace")
        if trace is None:
            return None  # the application never imported OpenTelemetry: it does not trace
        provider = trace.get_tracer_provider()
        if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
            return None  # no provider set (yet): spans would go nowhere
    cached = _cached
    if cached is not None and cached[0] is provider:
        return cached[1]
    tracer = provider.get_tracer(_TRACER_NAME)
    _cached = (provider, tracer)
    return tracer


def _otel() -> Any:
    from opentelemetry import context, trace

    return context, trace


def _traceparent(span: Any) -> str | None:
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def _parent(traceparent: str | None) -> Any:
    """The context a stored traceparent describes; None (the current context) without one."""
    if not traceparent:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


def start_context(
    name: str, workflow_id: str, queue_name: str | None, parent: Any = None
) -> str | None:
    """Mark a workflow's creation with a span (a child of the caller's current span, or of
    the OpenTelemetry context `parent`) and return its traceparent, to be stored with the
    workflow; None when not tracing."""
    tracer = _tracer()
    if tracer is None:
        return None
    attributes: dict[str, Any] = {
        "dbos.operation.type": "enqueue" if queue_name else "start",
        "dbos.workflow.id": workflow_id,
        "dbos.workflow.name": name,
    }
    if queue_name:
        attributes["dbos.queue.name"] = queue_name
    span = tracer.start_span(
        f"{'enqueue' if queue_name else 'start'} {name}", context=parent, attributes=attributes
    )
    span.end()
    return _traceparent(span)


class _WorkflowSpan:
    def __init__(self, tracer: Any, name: str, attributes: dict[str, Any], parent: Any) -> None:
        self._tracer = tracer
        self._name = name
        self._attributes = attributes
        self._parent = parent
        self._span: Any = None
        self._token: Any = None

    def __enter__(self) -> None:
        context, trace = _otel()
        self._span = self._tracer.start_span(
            self._name, context=self._parent, attributes=self._attributes
        )
        self._token = context.attach(trace.set_span_in_context(self._span))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        context, trace = _otel()
        context.detach(self._token)
        span = self._span
        if exc is None:
            span.set_attribute("dbos.workflow.status", "SUCCESS")
        elif isinstance(exc, (DBOSAwaitedWorkflowCancelledError, DBOSWorkflowCancelledError)):
            span.set_attribute("dbos.workflow.status", "CANCELLED")
        elif isinstance(exc, WorkflowParked):
            # Gave its thread back in a wait; the run that resumes it has a span of its own.
            span.set_attribute("dbos.workflow.status", "PENDING")
            span.set_attribute("dbos.workflow.parked", True)
        elif isinstance(exc, (DBOSWorkflowAbandonedError, DBOSDatabaseConnectionError)):
            # Left PENDING for recovery: not the workflow's own failure.
            span.set_attribute("dbos.workflow.status", "PENDING")
        else:
            span.set_attribute("dbos.workflow.status", "ERROR")
            span.record_exception(exc)
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        span.end()


def workflow_span(
    name: str,
    workflow_id: str,
    attempt: int,
    trace_context: str | None,
    executor_id: str,
    app_version: str,
    queue_name: str | None,
) -> AbstractContextManager[None]:
    """Around one execution of a workflow body: its span, current while the body runs."""
    tracer = _tracer()
    if tracer is None:
        return _NULL
    attributes: dict[str, Any] = {
        "dbos.operation.type": "workflow",
        "dbos.workflow.id": workflow_id,
        "dbos.workflow.name": name,
        "dbos.workflow.attempt": attempt,
        "dbos.executor.id": executor_id,
        "dbos.app.version": app_version,
    }
    if queue_name:
        attributes["dbos.queue.name"] = queue_name
    return _WorkflowSpan(tracer, name, attributes, _parent(trace_context))


class StepSpan:
    """A step's span, current while its function runs (so spans of the libraries it calls,
    an HTTP client's say, are its children); ended once with the step's outcome."""

    def __init__(self, span: Any, token: Any) -> None:
        self._span = span
        self._token = token

    def end(self, error: BaseException | None, attempts: int | None) -> None:
        context, trace = _otel()
        context.detach(self._token)
        span = self._span
        span.set_attribute("dbos.step.attempts", attempts or 1)
        if error is None:
            span.set_attribute("dbos.step.status", "SUCCESS")
        else:
            span.set_attribute("dbos.step.status", "ERROR")
            span.record_exception(error)
            span.set_status(
                trace.Status(trace.StatusCode.ERROR, f"{type(error).__name__}: {error}")
            )
        span.end()


def start_step(workflow_id: str, step_id: int, name: str, kind: str = "step") -> StepSpan | None:
    tracer = _tracer()
    if tracer is None:
        return None
    context, trace = _otel()
    span = tracer.start_span(
        name,
        attributes={
            "dbos.operation.type": kind,
            "dbos.workflow.id": workflow_id,
            "dbos.step.id": step_id,
            "dbos.step.name": name,
        },
    )
    return StepSpan(span, context.attach(trace.set_span_in_context(span)))
