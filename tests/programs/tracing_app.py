"""Worker program for `tests/test_tracing.py`: an application with its own global OpenTelemetry
TracerProvider, whose finished spans go to a JSON-lines file, run as a separate process.

Usage::

    python tests/programs/tracing_app.py ROLE SYSTEM_DATABASE_URL MARKER_DIR

``start``    set the global provider, launch, start workflow ``traced-wf`` and block inside its
             second step (the test SIGKILLs it there, once ``blocked`` exists).
``recover``  set the global provider, create ``release``, launch (recovery resumes the
             workflow), wait for its result and print a JSON report.
Spans of both go to ``MARKER_DIR/spans-<role>.jsonl`` as each one ends.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from dbos import DBOS, SetWorkflowID

WORKFLOW_ID = "traced-wf"


class FileExporter(SpanExporter):
    def __init__(self, path: Path) -> None:
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self.path.open("a") as out:
            for span in spans:
                ctx = span.get_span_context()
                assert ctx is not None
                out.write(
                    json.dumps(
                        {
                            "name": span.name,
                            "trace_id": f"{ctx.trace_id:032x}",
                            "span_id": f"{ctx.span_id:016x}",
                            "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
                            "attributes": dict(span.attributes or {}),
                        }
                    )
                    + "\n"
                )
        return SpanExportResult.SUCCESS


ROLE, URL, MARKERS = sys.argv[1], sys.argv[2], Path(sys.argv[3])
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(FileExporter(MARKERS / f"spans-{ROLE}.jsonl")))
trace.set_tracer_provider(provider)


@DBOS.step()
def first() -> str:
    return "one"


@DBOS.step()
def second() -> str:
    (MARKERS / "blocked").touch()
    while not (MARKERS / "release").exists():
        time.sleep(0.01)
    return "two"


@DBOS.workflow()
def traced() -> str:
    return first() + second()


if ROLE == "recover":
    (MARKERS / "release").touch()
DBOS(config={"name": "tracing-app", "system_database_url": URL, "log_level": "WARNING"})
DBOS.launch()
if ROLE == "start":
    with SetWorkflowID(WORKFLOW_ID):
        DBOS.start_workflow(traced)
    time.sleep(120)  # killed in the second step long before this ends
else:
    result = DBOS.retrieve_workflow(WORKFLOW_ID).get_result()
    report = {"result": result, "same_provider": trace.get_tracer_provider() is provider}
    DBOS.destroy()
    print(json.dumps(report))
