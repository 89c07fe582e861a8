"""Smoke test of `benchmarks/replay_bench.py` (the full-size run is published in
`benchmarks/README.md`): a tiny run prints its JSON line with every measure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_replay_benchmark_reports_its_measures() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "replay_bench.py"), "--histories", "20",
         "--rounds", "1"],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["histories"] == 20 and result["goal_met"] is None  # too small to judge
    for key in ("run_s", "export_s", "replay_cli_s", "replay_loop_s", "replay_vs_run"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["replay_loop_s"] < result["replay_cli_s"]
