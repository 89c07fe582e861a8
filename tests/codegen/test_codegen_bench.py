"""The per-step benchmark of generated against decorated code runs and reports both ratios."""

from __future__ import annotations

import json
import subprocess
import sys

from build_support import REPO


def test_codegen_benchmark_reports_a_ratio_per_measure() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "codegen_bench.py"), "--steps", "50",
         "--rounds", "1"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for measure in ("dispatch", "in_workflow"):
        assert report[measure]["decorated_us"] > 0 and report[measure]["generated_us"] > 0
        assert report[measure]["ratio"] > 0
