"""The test kit: replay of recorded histories, and (in `pytest_plugin`, loaded by pytest on its
own) fixtures that give each test a launched DBOS.

- `replay(histories)`: run the current code against histories written by `dbos workflow
  export` (or `export_history`), running no step and touching no database the histories came
  from. Returns one `ReplayResult` per history; raises `ReplayDivergenceError` at the first
  history the code no longer follows, `HistoryError` on bad input.
- `export_history(workflow_id)`: a workflow's history from the DBOS launched in this process,
  in the same format.
- `time_skipping()`: `with time_skipping():` (or `async with`) makes durable time virtual:
  it jumps to the earliest durable timer whenever every workflow of the process waits on one
  (see `virtual_clock`).
- Fixtures (no import needed once the package is installed): `dbos_sqlite`, `dbos_postgres`,
  `dbos_test_config`; see `pytest_plugin`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._admin.history_format import (
    FORMAT_VERSION,
    HistoryError,
    WorkflowHistory,
    load_histories,
    parse_history,
)
from .._serialization import Serializer
from .replayer import HistoryLike, ReplayDivergenceError, Replayer, ReplayResult, as_histories
from .virtual_clock import SkippedTime, TimeSkippingError, time_skipping


def replay(
    histories: HistoryLike | Iterable[HistoryLike],
    *,
    serializer: Serializer | None = None,
    enable_patching: bool | None = None,
) -> list[ReplayResult]:
    """Replay each history (a file path, an exported document, a parsed `WorkflowHistory`, or
    several of them) against the workflows registered in this process.

    Recorded steps return their recorded outcomes; no step runs. A step the history lacks is
    where its replay ends, successfully. Every history is checked before the first one runs
    (`HistoryError`: unreadable, a newer format, a workflow this code lacks); the first
    divergence raises `ReplayDivergenceError` naming the step number, the recorded and the
    called names, and the file and line of the call. `serializer` and `enable_patching`
    default to the application's `DBOS(config=...)`, when it made one."""
    parsed = as_histories(histories)
    with Replayer(serializer=serializer, enable_patching=enable_patching) as replayer:
        for history in parsed:
            replayer.check(history)
        return list(replayer.replay_all(parsed))


def export_history(workflow_id: str, *, with_children: bool = False) -> Any:
    """The recorded history of a workflow of the DBOS launched in this process, as `dbos
    workflow export` writes it: one document, or with `with_children` a list of documents
    (the workflow, then its descendants)."""
    from .._admin import export
    from .._admin.connect import NotFound
    from .._core.runtime import get_runtime
    from .._error import DBOSNonExistentWorkflowError

    sysdb = get_runtime().sysdb
    try:
        if with_children:
            return list(export.export_with_children(sysdb, workflow_id))
        return export.export_workflow(sysdb, workflow_id)
    except NotFound:
        raise DBOSNonExistentWorkflowError(workflow_id) from None


__all__ = [
    "FORMAT_VERSION",
    "HistoryError",
    "ReplayDivergenceError",
    "ReplayResult",
    "Replayer",
    "SkippedTime",
    "TimeSkippingError",
    "WorkflowHistory",
    "export_history",
    "load_histories",
    "parse_history",
    "replay",
    "time_skipping",
]
