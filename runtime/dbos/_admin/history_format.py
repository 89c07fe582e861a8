"""The workflow history format: what `dbos workflow export` writes and `dbos replay` reads.

One history is a JSON object (documented in `docs/history-format.md`): the workflow's row, its
steps in order, the children it started, the messages sent to it, the values its events took
and the values it wrote to streams. Stored values are exported exactly as stored: their text
and the label of the format they are in (`serialization`), so exporting never decodes, and
never unpickles, anything. `format_version` grows with every change a reader must know about;
a reader refuses a history newer than it understands instead of misreading it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._db.records import StepRecord
from .._error import DBOSException

FORMAT_NAME = "dbos-workflow-history"
FORMAT_VERSION = 1


class HistoryError(DBOSException, ValueError):
    """A history that cannot be read: not JSON (a truncated file), another format, a newer
    format version, or a field missing or of the wrong type. The message is one line."""

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class WorkflowHistory:
    """One parsed history: the workflow's fields as exported, and its steps by number."""

    source: str  # where it was read from, for messages: a file name, or "<history>"
    workflow: Mapping[str, Any]
    steps: dict[int, StepRecord]
    document: Mapping[str, Any]

    @property
    def workflow_id(self) -> str:
        return str(self.workflow["workflow_id"])

    @property
    def name(self) -> str:
        return str(self.workflow["name"])

    @property
    def status(self) -> str:
        return str(self.workflow["status"])


# ------------------------------------------------------------------------------ reading

_TEXT = (str, type(None))
_WORKFLOW_FIELDS: dict[str, tuple[type, ...]] = {
    "workflow_id": (str,),
    "name": (str,),
    "status": (str,),
    "class_name": _TEXT,
    "config_name": _TEXT,
    "inputs": _TEXT,
    "output": _TEXT,
    "error": _TEXT,
    "serialization": _TEXT,
}
_STEP_FIELDS: dict[str, tuple[type, ...]] = {
    "step_id": (int,),
    "name": (str,),
    "output": _TEXT,
    "error": _TEXT,
    "serialization": _TEXT,
    "child_workflow_id": _TEXT,
}
_OPTIONAL_INT = (int, type(None))


def _check_fields(
    where: str, value: Any, fields: Mapping[str, tuple[type, ...]]
) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise HistoryError(f"{where} is not a JSON object")
    for key, types in fields.items():
        if key not in value:
            raise HistoryError(f"{where} lacks {key!r}")
        field = value[key]
        if not isinstance(field, types) or isinstance(field, bool):
            wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise HistoryError(f"{where}: {key!r} must be {wanted}, not {json.dumps(field)[:40]}")
    return value


def _step_record(where: str, raw: Any) -> StepRecord:
    step = _check_fields(where, raw, _STEP_FIELDS)
    times = [step.get(k) for k in ("started_at", "completed_at", "attempts")]
    if not all(isinstance(t, _OPTIONAL_INT) and not isinstance(t, bool) for t in times):
        raise HistoryError(f"{where}: started_at, completed_at and attempts must be int or null")
    return StepRecord(
        step["step_id"],
        step["name"],
        step["output"],
        step["error"],
        step["child_workflow_id"],
        step["serialization"],
        times[0],
        times[1],
        times[2],
    )


def parse_history(document: Any, source: str = "<history>") -> WorkflowHistory:
    """Check one history document (a parsed JSON object) and return it parsed."""
    if not isinstance(document, dict):
        raise HistoryError(f"{source}: a history is a JSON object, not {type(document).__name__}")
    if document.get("format") != FORMAT_NAME:
        raise HistoryError(
            f"{source}: not a workflow history (its 'format' is {document.get('format')!r}, "
            f"expected {FORMAT_NAME!r}: write one with `dbos workflow export`)"
        )
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise HistoryError(f"{source}: 'format_version' must be a positive integer")
    if version > FORMAT_VERSION:
        raise HistoryError(
            f"{source}: history format version {version} is newer than version "
            f"{FORMAT_VERSION}, the newest this dbos reads: upgrade dbos-durable to replay it"
        )
    workflow = _check_fields(f"{source}: 'workflow'", document.get("workflow"), _WORKFLOW_FIELDS)
    where = f"{source}: workflow {workflow['workflow_id']}"
    raw_steps = document.get("steps")
    if not isinstance(raw_steps, list):
        raise HistoryError(f"{where}: 'steps' must be a JSON array")
    steps: dict[int, StepRecord] = {}
    for index, raw in enumerate(raw_steps):
        record = _step_record(f"{where}: steps[{index}]", raw)
        if record.function_id in steps:
            raise HistoryError(f"{where}: step {record.function_id} appears twice")
        steps[record.function_id] = record
    return WorkflowHistory(source, workflow, steps, document)


def parse_histories(text: str, source: str) -> list[WorkflowHistory]:
    """The histories in one file's text: one history object, or a JSON array of them."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        if not text.strip():
            raise HistoryError(f"{source}: empty file, not a workflow history") from None
        raise HistoryError(f"{source}: not valid JSON (truncated?): {exc}") from None
    if isinstance(document, list):
        return [parse_history(d, f"{source}[{i}]") for i, d in enumerate(document)]
    return [parse_history(document, source)]


def load_histories(paths: str | Path | Iterable[str | Path]) -> list[WorkflowHistory]:
    """Read and check every history in these files (each one history or an array of them)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    histories: list[WorkflowHistory] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise HistoryError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise HistoryError(f"{path}: not a text file, not a workflow history") from None
        histories.extend(parse_histories(text, str(path)))
    return histories


# ------------------------------------------------------------------------------ writing


def step_document(record: StepRecord) -> dict[str, Any]:
    return {
        "step_id": record.function_id,
        "name": record.function_name,
        "output": record.output,
        "error": record.error,
        "serialization": record.serialization,
        "child_workflow_id": record.child_workflow_id,
        "started_at": record.started_at_epoch_ms,
        "completed_at": record.completed_at_epoch_ms,
        "attempts": record.attempts,
    }


def history_document(
    workflow: Mapping[str, Any],
    steps: Iterable[StepRecord],
    *,
    children: Iterable[str] = (),
    messages: Iterable[Mapping[str, Any]] = (),
    events: Iterable[Mapping[str, Any]] = (),
    streams: Iterable[Mapping[str, Any]] = (),
    exported_at: int | None = None,
) -> dict[str, Any]:
    """A history object of the current format version, its keys in a stable order."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "exported_at": exported_at,
        "workflow": dict(workflow),
        "steps": [step_document(r) for r in steps],
        "children": list(children),
        "messages": [dict(m) for m in messages],
        "events": [dict(e) for e in events],
        "streams": [dict(s) for s in streams],
    }
