"""Worker program for `tests/test_graceful_shutdown.py`: a DBOS application the tests run as a
separate process and stop with SIGTERM, as a container's stop does.

Usage::

    python tests/programs/sigterm_app.py ROLE MARKER_DIR [PORT]

The system database URL comes from ``$SIGTERM_APP_SYSTEM_DATABASE_URL``; the grace period from
``$SIGTERM_APP_GRACE_SEC`` (the default when unset); ``$SIGTERM_APP_NO_HANDLERS=1`` sets
``install_signal_handlers: False``.

Roles
-----
``run``          launch, start workflow ``wf`` (step ``a`` then step ``b``) and block the main
                 thread until the process is ended.
``user_before``  as ``run``, with an application SIGTERM handler installed before DBOS: it marks
                 ``user_handler`` and lets the main thread return (exit status 0).
``user_after``   as ``run``, with an application SIGTERM handler installed after launch that
                 marks ``user_handler`` and calls the handler it replaced.
``serve``        uvicorn serving a FastAPI app with ``DBOS(fastapi=app)`` on PORT; ``GET /start``
                 starts ``wf``.
``serve_plain``  as ``serve``, without the integration: DBOS launched in the main thread first.
``recover``      create ``MARKER_DIR/release`` (step ``a`` then returns at once), launch (recovery
                 resumes ``wf``), wait for ``wf`` and print its result as JSON.

Step ``a`` marks ``a.start``, waits for the release file for up to ``STEP_SEC`` (or
``$SIGTERM_APP_STEP_SEC``), then marks ``a.end``; step ``b`` marks ``b``. Each mark appends the
process ID to ``MARKER_DIR/<label>.mark``, durably.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from dbos import DBOS, DBOSConfig, SetWorkflowID

WORKFLOW_ID = "wf"
STEP_SEC = 2.0
MARKER_DIR = Path(".")


def mark(label: str) -> None:
    fd = os.open(MARKER_DIR / f"{label}.mark", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


@DBOS.step()
def step_a() -> int:
    mark("a.start")
    deadline = time.monotonic() + float(os.environ.get("SIGTERM_APP_STEP_SEC", STEP_SEC))
    while time.monotonic() < deadline and not (MARKER_DIR / "release").exists():
        time.sleep(0.01)
    mark("a.end")
    return os.getpid()


@DBOS.step()
def step_b() -> int:
    mark("b")
    return os.getpid()


@DBOS.workflow()
def two_steps() -> dict[str, int]:
    a = step_a()
    b = step_b()
    return {"a": a, "b": b}


def config() -> DBOSConfig:
    cfg: DBOSConfig = {
        "name": "sigterm-app",
        "system_database_url": os.environ["SIGTERM_APP_SYSTEM_DATABASE_URL"],
        "application_version": "sigterm-app-1",
        "log_level": "INFO",
    }
    grace = os.environ.get("SIGTERM_APP_GRACE_SEC")
    if grace:
        cfg["shutdown_grace_period_sec"] = float(grace)
    if os.environ.get("SIGTERM_APP_NO_HANDLERS") == "1":
        cfg["install_signal_handlers"] = False
    return cfg


def start_and_block(until: threading.Event) -> None:
    with SetWorkflowID(WORKFLOW_ID):
        DBOS.start_workflow(two_steps)
    print("started", flush=True)
    until.wait()


def serve(port: int, integrated: bool) -> None:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    if integrated:
        DBOS(fastapi=app, config=config())
    else:
        DBOS(config=config())
        DBOS.launch()

    @app.get("/start")
    def start() -> dict[str, str]:
        with SetWorkflowID(WORKFLOW_ID):
            DBOS.start_workflow(two_steps)
        return {"workflow_id": WORKFLOW_ID}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def recover() -> None:
    (MARKER_DIR / "release").touch()
    DBOS(config=config())
    DBOS.launch()
    result: Any = DBOS.retrieve_workflow(WORKFLOW_ID).get_result()
    print(json.dumps({"result": result, "pid": os.getpid()}), flush=True)
    DBOS.destroy()


def main() -> None:
    global MARKER_DIR
    role, MARKER_DIR = sys.argv[1], Path(sys.argv[2])
    stop = threading.Event()
    if role in ("serve", "serve_plain"):
        serve(int(sys.argv[3]), integrated=role == "serve")
        return
    if role == "recover":
        recover()
        return
    if role == "user_before":

        def before(signum: int, frame: FrameType | None) -> None:
            mark("user_handler")
            stop.set()

        signal.signal(signal.SIGTERM, before)
    DBOS(config=config())
    DBOS.launch()
    if role == "user_after":
        replaced = signal.getsignal(signal.SIGTERM)

        def after(signum: int, frame: FrameType | None) -> None:
            mark("user_handler")
            if callable(replaced):
                replaced(signum, frame)

        signal.signal(signal.SIGTERM, after)
    start_and_block(stop)


if __name__ == "__main__":
    main()
