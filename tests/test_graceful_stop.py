"""The graceful stop inside one process (`_services/shutdown.py`): what SIGTERM and a server's
shutdown run before `destroy`. Workflows stop at their next durable boundary and stay PENDING,
a waiting workflow stops at once, a running step finishes and is recorded, nothing new is
taken; the SIGTERM handler is installed from the main thread only, chained, and put back.
Real signals and processes: `test_graceful_shutdown.py`."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dbos import DBOS, DBOSClient, DBOSConfig, Queue, SetWorkflowID
from dbos._core.runtime import get_runtime
from dbos._error import DBOSInitializationError
from dbos._services.shutdown import drain_then, stop_gracefully

queue = Queue("graceful.queue")
in_step = threading.Event()
release = threading.Event()


@DBOS.step()
def graceful_slow_step() -> str:
    in_step.set()
    release.wait(10)
    return "done"


@DBOS.step()
def graceful_next_step() -> str:
    return "next"


@DBOS.workflow()
def graceful_two_steps() -> str:
    return graceful_slow_step() + graceful_next_step()


@DBOS.workflow()
def graceful_waits() -> Any:
    return DBOS.recv("topic", timeout_seconds=300)


@DBOS.workflow()
def graceful_sleeps() -> str:
    DBOS.sleep(300)
    return "woke"


@DBOS.workflow()
async def graceful_waits_async() -> Any:
    return await DBOS.recv_async("topic", timeout_seconds=300)


@DBOS.step()
async def graceful_slow_step_async() -> str:
    in_step.set()
    await asyncio.to_thread(release.wait, 10)
    return "done"


@DBOS.workflow()
async def graceful_two_steps_async() -> str:
    return await graceful_slow_step_async() + graceful_next_step()


def release_once_unwinding() -> None:
    """Let the running step finish only once the stop has begun (not before: the workflow
    would reach its next step first)."""
    runtime = get_runtime()

    def wait_then_release() -> None:
        while not runtime.unwinding:
            time.sleep(0.005)
        time.sleep(0.2)
        release.set()

    threading.Thread(target=wait_then_release, daemon=True).start()


def config(url: str, **extra: Any) -> DBOSConfig:
    cfg: DBOSConfig = {"name": "graceful-test", "system_database_url": url}
    cfg.update(extra)  # type: ignore[typeddict-item]
    return cfg


@pytest.fixture
def launched(system_database_url: str) -> Iterator[str]:
    DBOS.destroy()
    DBOS(config=config(system_database_url))
    DBOS.launch()
    in_step.clear()
    release.clear()
    yield system_database_url
    release.set()
    DBOS.destroy()


def _workflow(url: str, workflow_id: str) -> tuple[str, list[str]]:
    with DBOSClient(system_database_url=url) as client:
        status = client.get_workflow_status(workflow_id)
        assert status is not None
        steps = [s["function_name"] for s in client.list_workflow_steps(workflow_id)]
        return status.status, steps


@pytest.mark.parametrize("workflow", [graceful_two_steps, graceful_two_steps_async])
def test_a_running_step_finishes_and_the_workflow_stops_before_the_next(
    launched: str, workflow: Any
) -> None:
    with SetWorkflowID("mid-step"):
        handle = DBOS.start_workflow(workflow)
    assert in_step.wait(10)
    release_once_unwinding()
    started = time.monotonic()
    assert stop_gracefully(get_runtime(), 10.0) == 0
    assert time.monotonic() - started >= 0.2  # it waited for the step
    status, steps = _workflow(launched, "mid-step")
    assert status == "PENDING"
    assert len(steps) == 1, steps  # the next step never began
    assert "graceful_slow_step" in steps[0]
    with pytest.raises(BaseException) as stopped:
        handle.get_result()
    assert "shutting down" in str(stopped.value)


@pytest.mark.parametrize("workflow", [graceful_waits, graceful_sleeps, graceful_waits_async])
def test_a_waiting_workflow_stops_at_once(launched: str, workflow: Any) -> None:
    with SetWorkflowID("waiting"):
        DBOS.start_workflow(workflow)
    deadline = time.monotonic() + 10
    while not get_runtime().active and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # into the wait
    started = time.monotonic()
    assert stop_gracefully(get_runtime(), 30.0) == 0
    assert time.monotonic() - started < 5
    assert _workflow(launched, "waiting")[0] == "PENDING"


def test_nothing_new_is_taken_from_queues(launched: str) -> None:
    stop_gracefully(get_runtime(), 1.0)
    with SetWorkflowID("queued-late"):
        queue.enqueue(graceful_next_step)
    time.sleep(0.5)
    assert _workflow(launched, "queued-late")[0] == "ENQUEUED"


def test_recovery_in_the_next_launch_finishes_what_was_stopped(launched: str) -> None:
    with SetWorkflowID("resumes"):
        DBOS.start_workflow(graceful_two_steps)
    assert in_step.wait(10)
    release_once_unwinding()
    drain_then(DBOS.destroy)
    assert _workflow(launched, "resumes")[0] == "PENDING"
    in_step.clear()
    DBOS(config=config(launched))
    DBOS.launch()
    assert DBOS.retrieve_workflow("resumes").get_result() == "donenext"
    assert not in_step.is_set()  # the recorded step was not run again


def test_the_sigterm_handler_is_chained_and_put_back(system_database_url: str) -> None:
    def mine(signum: int, frame: Any) -> None:
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        DBOS.destroy()
        DBOS(config=config(system_database_url))
        DBOS.launch()
        assert signal.getsignal(signal.SIGTERM) is not mine  # DBOS's, chained to mine
        DBOS.destroy()
        assert signal.getsignal(signal.SIGTERM) is mine
        DBOS(config=config(system_database_url, install_signal_handlers=False))
        DBOS.launch()
        assert signal.getsignal(signal.SIGTERM) is mine  # opted out
        DBOS.destroy()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_no_handler_from_a_thread_other_than_the_main_one(system_database_url: str) -> None:
    before = signal.getsignal(signal.SIGTERM)
    DBOS.destroy()
    DBOS(config=config(system_database_url))
    launcher = threading.Thread(target=DBOS.launch)
    launcher.start()
    launcher.join()
    try:
        assert signal.getsignal(signal.SIGTERM) == before
    finally:
        DBOS.destroy()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("shutdown_grace_period_sec", -1),
        ("shutdown_grace_period_sec", "20"),
        ("install_signal_handlers", "no"),
    ],
)
def test_bad_settings_are_refused_before_anything_runs(key: str, value: Any) -> None:
    DBOS.destroy()
    with pytest.raises(DBOSInitializationError, match=key):
        DBOS(config=config("sqlite:///unused.sqlite", **{key: value}))
