"""Replaying exported histories: `dbos replay` over N histories of a 10-step workflow (issue 24's
goal: 1,000 in under 10 seconds), against running the same N workflows for real in the same
round.

Each round, on a fresh SQLite system database (WAL, synchronous=FULL, the default):

* ``run``: a process runs N workflows of 10 steps one after another (`SetWorkflowID`), timed
  in-process from the first start to the last result: what the replayed work cost to do;
* ``export``: ``dbos workflow export --name tenstep --limit N`` writes them to one JSON file
  (wall time of the command);
* ``replay_cli``: ``dbos replay FILE --app app``, the wall time of the whole command (a fresh
  interpreter, importing the app, reading and checking the file, replaying every history);
* ``replay_loop``: the replay alone, as the command reports it (after import and reading).

Prints one JSON line: medians over rounds, in seconds, the per-history replay cost in ms and
``replay_vs_run`` = replay_loop / run (per round, then the median), and whether the goal
(replay_cli under 10 s for 1,000) was met.

Usage: ``python benchmarks/replay_bench.py [--histories N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

APP = """
from dbos import DBOS


@DBOS.step()
def work(i: int, order: str) -> dict:
    return {"step": i, "order": order, "lines": [i, i * 2, i * 3]}


@DBOS.workflow()
def tenstep(order: str) -> int:
    total = 0
    for i in range(10):
        total += work(i, order)["step"]
    return total
"""

RUN = """
import json, os, sys, time
from dbos import DBOS, SetWorkflowID
import app

DBOS(config={"name": "replay-bench", "system_database_url": os.environ["URL"],
             "log_level": "WARNING"})
DBOS.launch()
n = int(sys.argv[1])
started = time.perf_counter()
for i in range(n):
    with SetWorkflowID(f"order-{i:06d}"):
        assert app.tenstep(f"order-{i}") == 45
print(json.dumps({"run_s": time.perf_counter() - started}))
DBOS.destroy()
"""

_LOOP = re.compile(r"in (\d+\.\d+)s")


def _dbos() -> list[str]:
    script = Path(sys.executable).with_name("dbos")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dbos"]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return took, done.stdout


def one_round(histories: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="replay-bench-") as tmp:
        folder = Path(tmp)
        (folder / "app.py").write_text(APP)
        url = f"sqlite:///{folder / 'recorded.sqlite'}"
        _, out = _run([sys.executable, "-c", RUN, str(histories)], folder, {"URL": url})
        run_s = float(json.loads(out.strip().splitlines()[-1])["run_s"])
        export_s, exported = _run(
            [*_dbos(), "workflow", "export", "--name", "tenstep", "--limit", str(histories),
             "--db-url", url],
            folder,
            {},
        )  # fmt: skip
        (folder / "histories.json").write_text(exported)
        replay_s, report = _run([*_dbos(), "replay", "histories.json", "--app", "app"], folder, {})
        found = _LOOP.search(report)
        if found is None or f"replayed {histories} histories" not in report:
            raise SystemExit(f"unexpected replay report: {report!r}")
        return {
            "run_s": run_s,
            "export_s": export_s,
            "replay_cli_s": replay_s,
            "replay_loop_s": float(found.group(1)),
            "file_mb": len(exported.encode()) / 1e6,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = [one_round(args.histories) for _ in range(args.rounds)]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    result: dict[str, Any] = {
        "histories": args.histories,
        "steps_per_history": 10,
        "rounds": args.rounds,
        "load_1m": os.getloadavg()[0],
        **{key: round(median(key), 3) for key in rounds[0]},
        "replay_ms_per_history": round(median("replay_loop_s") * 1000 / args.histories, 3),
        "replay_vs_run": round(
            statistics.median(r["replay_loop_s"] / r["run_s"] for r in rounds), 3
        ),
        "goal": "dbos replay of 1,000 histories of 10 steps in under 10 s",
    }
    scaled = median("replay_cli_s") * 1000 / args.histories
    result["goal_met"] = scaled < 10.0 if args.histories >= 1000 else None
    print(json.dumps(result))


if __name__ == "__main__":
    main()
