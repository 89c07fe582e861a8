"""Worker program for `tests/test_retention.py`: garbage collection run as its own process, so
the test can SIGKILL it in the middle of a batch.

Usage::

    python tests/programs/gc_app.py SYSTEM_DATABASE_URL MARKER_DIR CUTOFF_EPOCH_MS BATCH_SIZE \
        [pause]

With ``pause``, the statement after the workflow rows' DELETE in the second batch creates
``MARKER_DIR/midbatch`` and blocks there, inside the open transaction, until the process is
killed. Without it, the collection runs to the end and prints ``{"deleted": N}``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from dbos import DBOS
from dbos._db.retention_store import RetentionStore

URL, MARKERS, CUTOFF, BATCH = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
PAUSE = len(sys.argv) > 5 and sys.argv[5] == "pause"

calls = 0
original = RetentionStore._gc_statement


def paused_statement(self: RetentionStore, cur: Any, sql: str, params: dict[str, str]) -> None:
    global calls
    calls += 1
    original(self, cur, sql, params)
    if calls == 6:  # the first statement after the second batch's workflow DELETE
        (MARKERS / "midbatch").touch()
        while True:
            time.sleep(1)


if PAUSE:
    RetentionStore._gc_statement = paused_statement  # type: ignore[method-assign]


@DBOS.transaction()
def gc_txn(x: int) -> int:  # registered so that launch opens the application database
    return x


DBOS(
    config={
        "name": "gc-app",
        "system_database_url": URL,
        "executor_id": "gc-worker",
        "log_level": "WARNING",
    }
)
DBOS.launch()
deleted = DBOS.garbage_collect(cutoff_epoch_ms=CUTOFF, batch_size=BATCH)
DBOS.destroy()
print(json.dumps({"deleted": deleted}))
