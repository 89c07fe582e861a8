"""A worker process for `tests/test_many_workers.py`: declares the queues, launches, serves them
until told to stop (SIGTERM) or killed (SIGKILL).

Usage: ``python tests/programs/worker_app.py EXECUTOR_ID MARKER_DIR`` with the system database
URL in
``$WORKER_APP_SYSTEM_DATABASE_URL`` and the heartbeat bound in ``$WORKER_APP_EXECUTOR_TIMEOUT``.
It prints ``ready`` once launched. Each job's step appends this process's ID to
``MARKER_DIR/<tag>.mark`` when it executes, so the test counts executions across processes.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from dbos import DBOS, Queue

MARKERS = Path(".")

shared = Queue("workers.shared", concurrency=4, worker_concurrency=3)
limited = Queue("workers.limited", limiter={"limit": 5, "period": 1.0})
parts = Queue("workers.parts", worker_concurrency=5)
slow = Queue("workers.slow", worker_concurrency=4)


def mark(tag: str) -> None:
    fd = os.open(MARKERS / f"{tag}.mark", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


@DBOS.step()
def work(tag: str, seconds: float) -> dict[str, Any]:
    started = time.time()
    mark(tag)
    time.sleep(seconds)
    return {"pid": os.getpid(), "start": started, "end": time.time()}


@DBOS.workflow()
def job(tag: str, seconds: float) -> dict[str, Any]:
    return work(tag, seconds)


@DBOS.workflow()
def two_step_job(tag: str, seconds: float) -> list[dict[str, Any]]:
    return [work(f"{tag}.a", seconds), work(f"{tag}.b", seconds)]


def main(executor_id: str, marker_dir: str) -> int:
    global MARKERS
    MARKERS = Path(marker_dir)
    DBOS(
        config={
            "name": "workers",
            "system_database_url": os.environ["WORKER_APP_SYSTEM_DATABASE_URL"],
            "executor_id": executor_id,
            "application_version": "workers-v1",
            "executor_timeout_sec": float(os.environ.get("WORKER_APP_EXECUTOR_TIMEOUT", "30")),
            "log_level": "WARNING",
        }
    )
    DBOS.launch()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    DBOS.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
