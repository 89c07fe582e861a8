"""Workload 4: wake-up latency of ``send -> recv`` and ``set_event -> get_event``, in one process
and across two processes, median and p99.

One ping-pong loop measures both. A "responder" workflow waits in ``DBOS.recv``; the driver
sends it a message carrying the send time; the responder notes how long the message took
(``send -> recv``), then publishes an acknowledgement with ``DBOS.set_event`` carrying the time
just before the set; the driver, waiting in ``DBOS.get_event``, notes how long that took
(``set_event -> get_event``). Each round waits ``gap_s`` first, so the responder is really
asleep in ``recv`` (the wake-up path, not a message already there). Times are
``time.perf_counter()`` (CLOCK_MONOTONIC: one clock for every process of the machine).

* in process: the responder runs on a workflow thread of the driver's process;
* across processes: the responder runs in a child process (this script, ``--mode responder``),
  on the same system database, with another executor ID.

Rounds stop after ``samples`` (default 50) or ``budget_s`` (default 20 s) per mode, whichever
comes first, so an implementation that polls once a second still finishes; the sample count is
reported. Implementations without these functions report ``status: "n/a"``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from _common import emit, emit_not_available, hard_exit, make_config, median_ms, parse_args

from dbos import DBOS

WORKLOAD = "w4_messaging"
METRIC_KEYS = (
    "send_recv_ms",
    "send_recv_p99_ms",
    "set_get_event_ms",
    "set_get_event_p99_ms",
    "xproc_send_recv_ms",
    "xproc_send_recv_p99_ms",
    "xproc_set_get_event_ms",
    "xproc_set_get_event_p99_ms",
)
WAIT_TIMEOUT_S = 60.0
RESPONDER_ID = "bench-responder"

ARGS = parse_args()
_config = make_config(ARGS.db, "bench-messaging")
if ARGS.mode == "responder":
    _config["executor_id"] = "bench-responder-process"
DBOS(config=_config)


@DBOS.workflow()
def responder(rounds: int) -> list[float]:
    """Answer `rounds` pings; returns how long each ping took to arrive (seconds)."""
    arrivals: list[float] = []
    for i in range(rounds):
        sent_at = DBOS.recv("ping", timeout_seconds=WAIT_TIMEOUT_S)  # type: ignore[attr-defined, unused-ignore]
        if sent_at is None:  # the driver stopped early (its time budget ran out)
            break
        # Benchmark instrumentation: when did recv return, when is the event set?
        arrivals.append(time.perf_counter() - float(sent_at))  # dbos: ignore[DBOS112]
        DBOS.set_event(f"ack{i}", time.perf_counter())  # type: ignore[attr-defined, unused-ignore]  # dbos: ignore[DBOS112]
    return arrivals


def p99_ms(samples_s: list[float]) -> float | None:
    if not samples_s:
        return None
    if len(samples_s) < 2:
        return round(samples_s[0] * 1000.0, 4)
    return round(statistics.quantiles(samples_s, n=100, method="inclusive")[98] * 1000.0, 4)


def ping_pong(workflow_id: str, rounds: int, budget_s: float, gap_s: float) -> list[float]:
    """Drive the responder; returns the set_event -> get_event latencies (seconds)."""
    acks: list[float] = []
    stop_at = time.monotonic() + budget_s
    for i in range(rounds):
        if time.monotonic() > stop_at:
            DBOS.send(workflow_id, None, "ping")  # type: ignore[attr-defined, unused-ignore]
            break
        time.sleep(gap_s)
        DBOS.send(workflow_id, time.perf_counter(), "ping")  # type: ignore[attr-defined, unused-ignore]
        set_at = DBOS.get_event(workflow_id, f"ack{i}", timeout_seconds=WAIT_TIMEOUT_S)  # type: ignore[attr-defined, unused-ignore]
        got_at = time.perf_counter()
        if set_at is None:
            raise TimeoutError(f"acknowledgement {i} not received")
        acks.append(got_at - float(set_at))
    return acks


def in_process(rounds: int, budget_s: float, gap_s: float) -> tuple[list[float], list[float]]:
    handle = DBOS.start_workflow(responder, rounds)
    acks = ping_pong(handle.workflow_id, rounds, budget_s, gap_s)
    return list(handle.get_result()), acks


def across_processes(rounds: int, budget_s: float, gap_s: float) -> tuple[list[float], list[float]]:
    child = subprocess.Popen(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--db",
            ARGS.db,
            "--mode",
            "responder",
            "--params",
            json.dumps({"rounds": rounds}),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the responder process did not start")
        acks = ping_pong(RESPONDER_ID, rounds, budget_s, gap_s)
        out, _ = child.communicate(timeout=WAIT_TIMEOUT_S)
        arrivals = json.loads(out.strip().splitlines()[-1])
        return list(arrivals), acks
    finally:
        if child.poll() is None:
            child.kill()


def run_responder() -> None:
    """Child process: start the responder, say when it waits, print its arrivals, exit."""
    from dbos import SetWorkflowID

    DBOS.launch()
    with SetWorkflowID(RESPONDER_ID):
        handle = DBOS.start_workflow(responder, ARGS.get_int("rounds", 50))
    time.sleep(0.5)  # it is waiting in recv
    print("ready", flush=True)
    print(json.dumps(handle.get_result()), flush=True)
    hard_exit(0)


def check_api() -> None:
    for name in ("send", "recv", "set_event", "get_event"):
        if not hasattr(DBOS, name):
            raise NotImplementedError(f"DBOS.{name}")


def measure() -> dict[str, Any]:
    rounds = ARGS.get_int("samples", 50)
    budget_s = ARGS.get_float("budget_s", 20.0)
    gap_s = ARGS.get_float("gap_s", 0.02)
    arrivals, acks = in_process(rounds, budget_s, gap_s)
    x_arrivals, x_acks = across_processes(rounds, budget_s, gap_s)
    return {
        "send_recv_ms": median_ms(arrivals),
        "send_recv_p99_ms": p99_ms(arrivals),
        "set_get_event_ms": median_ms(acks),
        "set_get_event_p99_ms": p99_ms(acks),
        "xproc_send_recv_ms": median_ms(x_arrivals),
        "xproc_send_recv_p99_ms": p99_ms(x_arrivals),
        "xproc_set_get_event_ms": median_ms(x_acks),
        "xproc_set_get_event_p99_ms": p99_ms(x_acks),
        "samples_in_process": len(arrivals),
        "samples_across_processes": len(x_arrivals),
    }


def main() -> None:
    if ARGS.mode == "responder":
        run_responder()
        return
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
