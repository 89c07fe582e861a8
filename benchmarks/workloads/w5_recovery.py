"""Workload 5: recovery of N pending workflows (default 1,000) after a SIGKILL.

``--mode run`` (the default) orchestrates two child processes of the same interpreter:

1. ``--mode child``: launches, starts N workflows with ``DBOS.start_workflow``; each completes
   one step and then blocks in a second step (a long ``time.sleep``). When all N are blocked (or
   progress stalls) it prints ``READY <count>`` and the orchestrator SIGKILLs it.
2. ``--mode recover``: with ``BENCH_RECOVERY_UNBLOCK=1`` in its environment (the blocking step
   then returns at once), takes a timestamp right before ``DBOS.launch()`` and waits until
   ``DBOS.list_workflows(status="SUCCESS")`` counts all N.

Metrics: ``recovery_s`` (launch to all N SUCCESS), ``recovered_wf_per_s``, ``child_ready``
(workflows that had completed their first step when the child was killed), ``launch_ms``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from _common import count_workflows, emit, hard_exit, make_config, parse_args, wait_until

from dbos import DBOS

WORKLOAD = "w5_recovery"
UNBLOCK_ENV = "BENCH_RECOVERY_UNBLOCK"
BLOCK_S = 900.0  # the child is SIGKILLed long before this

ARGS = parse_args()
N = ARGS.get_int("n", 1000)
TIMEOUT_S = ARGS.get_float("timeout_s", 240.0)

DBOS(config=make_config(ARGS.db, "bench-recovery"))  # launched only in the child processes

BLOCKED = 0
FINISHED = 0
COUNT_LOCK = threading.Lock()


@DBOS.step()
def first_step(i: int) -> int:
    return i


@DBOS.step()
def blocking_step(i: int) -> int:
    global BLOCKED
    if os.environ.get(UNBLOCK_ENV) == "1":
        return i
    with COUNT_LOCK:
        BLOCKED += 1
    time.sleep(BLOCK_S)
    return i


@DBOS.workflow()
def pending_workflow(i: int) -> int:
    first_step(i)
    blocking_step(i)
    return i


def child() -> None:
    DBOS.launch()
    for i in range(N):
        DBOS.start_workflow(pending_workflow, i)
    # Wait for every workflow to be blocked in its second step; give up when no progress is made
    # for 10 s (an implementation with a bounded worker pool never blocks them all).
    deadline = time.monotonic() + TIMEOUT_S
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        with COUNT_LOCK:
            blocked = BLOCKED
        if blocked >= N:
            break
        if blocked != last:
            last, last_change = blocked, time.monotonic()
        elif time.monotonic() - last_change > 10.0:
            break
        time.sleep(0.05)
    with COUNT_LOCK:
        blocked = BLOCKED
    # Give the last step outputs a moment to be durable before the kill.
    time.sleep(0.5)
    sys.stdout.write(f"READY {blocked}\n")
    sys.stdout.flush()
    time.sleep(BLOCK_S)
    hard_exit(3)  # not reached: SIGKILLed by the orchestrator


def recover() -> None:
    t0 = time.perf_counter()
    DBOS.launch()
    t_launched = time.perf_counter()
    done = wait_until(lambda: count_workflows("SUCCESS") >= N, TIMEOUT_S, interval_s=0.05)
    t_done = time.perf_counter()
    if not done:
        raise TimeoutError(f"only {count_workflows('SUCCESS')} of {N} workflows recovered")
    total = t_done - t0
    sys.stdout.write(
        json.dumps(
            {
                "recovery_s": round(total, 3),
                "recovered_wf_per_s": round(N / total, 2),
                "launch_ms": round((t_launched - t0) * 1000.0, 2),
                "pending_left": count_workflows("PENDING"),
            }
        )
        + "\n"
    )
    sys.stdout.flush()
    hard_exit(0)


def run_child_process(mode: str, env: dict[str, str]) -> subprocess.Popen[str]:
    cmd = [sys.executable, os.path.abspath(__file__), "--db", ARGS.db, "--mode", mode]
    cmd += ["--params", json.dumps(ARGS.params)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)


def orchestrate() -> None:
    env = {k: v for k, v in os.environ.items() if k != UNBLOCK_ENV}
    proc = run_child_process("child", env)
    ready = -1
    try:
        assert proc.stdout is not None
        timer = threading.Timer(TIMEOUT_S, proc.kill)
        timer.start()
        try:
            for line in proc.stdout:
                if line.startswith("READY "):
                    ready = int(line.split()[1])
                    break
        finally:
            timer.cancel()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    if ready < 0:
        raise RuntimeError(f"child exited with {proc.returncode} before it was ready")

    proc = run_child_process("recover", dict(env, **{UNBLOCK_ENV: "1"}))
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S + 30.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"recovery process exited with {proc.returncode}")
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    metrics: dict[str, Any] = json.loads(lines[-1])
    metrics["child_ready"] = ready
    notes = [] if ready == N else [f"only {ready} of {N} workflows were blocked at the kill"]
    emit(WORKLOAD, ARGS, metrics, notes=notes)


def main() -> None:
    if ARGS.mode == "child":
        child()
    elif ARGS.mode == "recover":
        recover()
    else:
        orchestrate()


if __name__ == "__main__":
    main()
