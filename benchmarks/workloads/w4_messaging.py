"""Workload 4: notification latency of ``send -> recv`` and ``set_event -> get_event``.

* ``send_recv_ms``: a workflow is blocked in ``DBOS.recv``; the caller takes a timestamp, calls
  ``DBOS.send`` and the workflow records when ``recv`` returned (same process, same clock).
* ``set_get_event_ms``: the caller is blocked in ``DBOS.get_event``; the workflow takes a
  timestamp right before ``DBOS.set_event`` and publishes it as the event's value.

Both are medians over ``samples`` round trips (default 10), each after a ``gap_s`` pause (default
0.05 s) so that the receiving side is really waiting (the notification path, not the fast path
of an already-present message). Implementations without these functions report ``status: "n/a"``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from _common import emit, emit_not_available, hard_exit, make_config, median_ms, parse_args

from dbos import DBOS

WORKLOAD = "w4_messaging"
METRIC_KEYS = ("send_recv_ms", "set_get_event_ms")
WAIT_TIMEOUT_S = 60.0

ARGS = parse_args()
DBOS(config=make_config(ARGS.db, "bench-messaging"))

SAMPLES = ARGS.get_int("samples", 10)
RECEIVED_AT: dict[int, float] = {}
RECEIVED = [threading.Event() for _ in range(SAMPLES)]
GO = [threading.Event() for _ in range(SAMPLES)]


@DBOS.workflow()
def receiver_workflow(k: int) -> int:
    for i in range(k):
        msg = DBOS.recv("ping", timeout_seconds=WAIT_TIMEOUT_S)  # type: ignore[attr-defined, unused-ignore]
        # Benchmark instrumentation: when did recv return?
        RECEIVED_AT[i] = time.perf_counter()  # dbos: ignore[DBOS112] benchmark timing
        RECEIVED[i].set()
        assert msg is not None
    return k


@DBOS.step()
def wait_for_go(i: int) -> int:
    GO[i].wait(WAIT_TIMEOUT_S)
    return i


@DBOS.workflow()
def event_workflow(k: int) -> int:
    for i in range(k):
        wait_for_go(i)
        DBOS.set_event(f"ev{i}", time.perf_counter())  # type: ignore[attr-defined, unused-ignore]  # dbos: ignore[DBOS112]
    return k


def check_api() -> None:
    for name in ("send", "recv", "set_event", "get_event"):
        if not hasattr(DBOS, name):
            raise NotImplementedError(f"DBOS.{name}")


def measure() -> dict[str, Any]:
    gap_s = ARGS.get_float("gap_s", 0.05)

    send_recv: list[float] = []
    handle = DBOS.start_workflow(receiver_workflow, SAMPLES)
    for i in range(SAMPLES):
        time.sleep(gap_s)
        t_send = time.perf_counter()
        DBOS.send(handle.workflow_id, t_send, "ping")  # type: ignore[attr-defined, unused-ignore]
        if not RECEIVED[i].wait(WAIT_TIMEOUT_S):
            raise TimeoutError(f"message {i} not received")
        send_recv.append(RECEIVED_AT[i] - t_send)
    assert handle.get_result() == SAMPLES

    set_get: list[float] = []
    handle = DBOS.start_workflow(event_workflow, SAMPLES)
    for i in range(SAMPLES):
        threading.Timer(gap_s, GO[i].set).start()
        value = DBOS.get_event(  # type: ignore[attr-defined, unused-ignore]
            handle.workflow_id, f"ev{i}", timeout_seconds=WAIT_TIMEOUT_S
        )
        t_got = time.perf_counter()
        if value is None:
            raise TimeoutError(f"event {i} not received")
        set_get.append(t_got - float(value))
    assert handle.get_result() == SAMPLES
    return {"send_recv_ms": median_ms(send_recv), "set_get_event_ms": median_ms(set_get)}


def main() -> None:
    try:
        check_api()
        DBOS.launch()
        metrics = measure()
    except (ImportError, NotImplementedError) as e:
        emit_not_available(WORKLOAD, ARGS, f"{type(e).__name__}: {e}", METRIC_KEYS)
        hard_exit(0)
        return
    emit(WORKLOAD, ARGS, metrics, notes=["notification polling interval: implementation default"])
    hard_exit(0)


if __name__ == "__main__":
    main()
