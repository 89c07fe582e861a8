"""OpenTelemetry spans: one per workflow execution and per step, into the application's own
provider (never a replaced global one), and a recovered workflow's spans in its original trace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from programs import program

from dbos import DBOS, Queue, SetWorkflowID
from dbos._core.runtime import get_runtime

APP = program("tracing_app")

tracing_queue = Queue("tracing-queue")
ATTEMPTS: dict[str, int] = {}
# The application's provider in these tests (none is set globally in the test process).
PROVIDER = TracerProvider()
EXPORTER = InMemorySpanExporter()
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
APP_TRACER = PROVIDER.get_tracer("app")


@DBOS.step(retries_allowed=True, max_attempts=4, interval_seconds=0.01)
def traced_flaky(key: str) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] < 3:
        raise RuntimeError(f"attempt {ATTEMPTS[key]} failed")
    # A span the step's own code makes (an HTTP client's, say) is a child of the step's span.
    with APP_TRACER.start_as_current_span("inner call"):
        pass
    return "ok"


@DBOS.step()
def plain(x: int) -> int:
    return x * 2


@DBOS.step()
def broken() -> None:
    raise ValueError("the step broke")


@DBOS.workflow()
def traced_workflow(key: str) -> str:
    return f"{traced_flaky(key)}-{plain(21)}"


@DBOS.workflow()
def traced_failing_workflow() -> None:
    broken()


@DBOS.workflow()
def queued_workflow(x: int) -> int:
    return plain(x)


@pytest.fixture
def spans(system_database_url: str) -> Iterator[InMemorySpanExporter]:
    EXPORTER.clear()
    ATTEMPTS.clear()
    DBOS.destroy()
    DBOS(
        config={
            "name": "tracing-test",
            "system_database_url": system_database_url,
            "log_level": "WARNING",
            "otel_tracer_provider": PROVIDER,
        }
    )
    DBOS.reset_system_database()
    DBOS.launch()
    yield EXPORTER
    DBOS.destroy()


def _by_name(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    out: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        out.setdefault(span.name, []).append(span)
    return out


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _span_id(span: ReadableSpan) -> int:
    ctx = span.get_span_context()
    assert ctx is not None
    return ctx.span_id


def _trace_id(span: ReadableSpan) -> int:
    ctx = span.get_span_context()
    assert ctx is not None
    return ctx.trace_id


def test_workflow_and_step_spans_in_the_configured_provider(
    spans: InMemorySpanExporter,
) -> None:
    global_before = trace.get_tracer_provider()
    with SetWorkflowID("traced-1"):
        assert traced_workflow("traced-1") == "ok-42"
    named = _by_name(spans)
    (start,) = named["start traced_workflow"]
    (workflow,) = named["traced_workflow"]
    (step,) = named["traced_flaky"]
    (double,) = named["plain"]
    (inner,) = named["inner call"]
    attrs: dict[str, Any] = dict(workflow.attributes or {})
    assert attrs["dbos.workflow.id"] == "traced-1"
    assert attrs["dbos.workflow.status"] == "SUCCESS"
    assert attrs["dbos.workflow.attempt"] == 1
    assert _parent_id(workflow) == _span_id(start)
    step_attrs: dict[str, Any] = dict(step.attributes or {})
    assert step_attrs["dbos.step.id"] == 1
    assert step_attrs["dbos.step.attempts"] == 3
    assert step_attrs["dbos.step.status"] == "SUCCESS"
    assert dict(double.attributes or {})["dbos.step.id"] == 2
    assert _parent_id(step) == _span_id(workflow) == _parent_id(double)
    assert _parent_id(inner) == _span_id(step)
    assert len({_trace_id(s) for s in (start, workflow, step, double, inner)}) == 1
    # The provider was used, not installed: the process's global one is what it was.
    assert trace.get_tracer_provider() is global_before
    # The step's attempts are in its checkpoint too, for the CLI and the dashboard.
    recorded = get_runtime().sysdb.workflows.load_steps("traced-1")
    assert [(r.function_name, r.attempts) for r in recorded.values()] == [
        ("traced_flaky", 3),
        ("plain", None),
    ]


def test_failed_workflow_and_step_spans_carry_the_error(spans: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError), SetWorkflowID("fails-1"):
        traced_failing_workflow()
    named = _by_name(spans)
    (workflow,) = named["traced_failing_workflow"]
    (step,) = named["broken"]
    assert dict(workflow.attributes or {})["dbos.workflow.status"] == "ERROR"
    assert workflow.status.status_code == trace.StatusCode.ERROR
    assert "the step broke" in (workflow.status.description or "")
    assert dict(step.attributes or {})["dbos.step.status"] == "ERROR"
    assert [e.name for e in step.events] == ["exception"]


def test_enqueued_workflow_runs_in_the_enqueuers_trace(spans: InMemorySpanExporter) -> None:
    with APP_TRACER.start_as_current_span("request"), SetWorkflowID("queued-1"):
        handle = tracing_queue.enqueue(queued_workflow, 4)
    assert handle.get_result() == 8
    named = _by_name(spans)
    (request,) = named["request"]
    (enqueue,) = named["enqueue queued_workflow"]
    (workflow,) = named["queued_workflow"]
    assert dict(enqueue.attributes or {})["dbos.queue.name"] == "tracing-queue"
    assert _parent_id(enqueue) == _span_id(request)
    assert _parent_id(workflow) == _span_id(enqueue)
    assert _trace_id(workflow) == _trace_id(enqueue) == _trace_id(request)


def test_without_a_provider_nothing_is_traced(system_database_url: str) -> None:
    DBOS.destroy()
    DBOS(config={"name": "untraced", "system_database_url": system_database_url})
    DBOS.launch()
    try:
        with SetWorkflowID("untraced-1"):
            assert traced_workflow("untraced-1") == "ok-42"
        rows = DBOS.list_workflows(workflow_ids=["untraced-1"])
        assert rows[0].status == "SUCCESS"
    finally:
        DBOS.destroy()
    # No global provider was set by DBOS either.
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def _read_spans(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_recovered_workflow_continues_the_original_trace(
    system_database_url: str, tmp_path: Path
) -> None:
    """The application sets its own global provider; after a SIGKILL mid-workflow, the new
    process's spans of the recovered run land in the trace the first process began."""
    env = dict(os.environ)
    first = subprocess.Popen(
        [sys.executable, str(APP), "start", system_database_url, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "blocked").exists():
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline, "the first process never reached its step"
            time.sleep(0.02)
    finally:
        first.kill()
        first.communicate(timeout=30)
    second = subprocess.run(
        [sys.executable, str(APP), "recover", system_database_url, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout.strip().splitlines()[-1])
    assert report == {"result": "onetwo", "same_provider": True}

    before = {s["name"]: s for s in _read_spans(tmp_path / "spans-start.jsonl")}
    after = _read_spans(tmp_path / "spans-recover.jsonl")
    start = before["start traced"]
    assert set(before) == {"start traced", "first"}  # killed before anything else ended
    (workflow,) = [s for s in after if s["name"] == "traced"]
    assert workflow["trace_id"] == start["trace_id"]
    assert workflow["parent_id"] == start["span_id"]
    assert workflow["attributes"]["dbos.workflow.attempt"] == 2
    assert workflow["attributes"]["dbos.workflow.status"] == "SUCCESS"
    # The first step was replayed from its checkpoint (no span: it did not run again); the
    # second ran in the recovered execution, inside the same trace.
    assert [s["name"] for s in after if s["name"] in ("first", "second")] == ["second"]
    (second_step,) = [s for s in after if s["name"] == "second"]
    assert second_step["trace_id"] == start["trace_id"]
    assert second_step["parent_id"] == workflow["span_id"]
