"""The check engine: parallel analysis, file discovery, explicit config, and the benchmark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lint_support import REPO, dbos_compile

from dbos_compile.config import Config
from dbos_compile.runner import PARALLEL_THRESHOLD, code_selected, partition, run_check

MODULE = """\
import time
from dbos import DBOS


@DBOS.workflow()
def wf_{i}() -> float:
    return time.time() + {i}
"""


def test_parallel_run_matches_serial_run(tmp_path: Path) -> None:
    for i in range(PARALLEL_THRESHOLD + 4):
        (tmp_path / f"m{i:02d}.py").write_text(MODULE.format(i=i))
    config = Config(root=tmp_path)
    serial = run_check([tmp_path], config, jobs=1)
    parallel = run_check([tmp_path], config, jobs=2)
    assert serial.count == PARALLEL_THRESHOLD + 4
    assert parallel.files == serial.files


def test_directories_skip_hidden_and_cache_dirs(tmp_path: Path) -> None:
    for sub in (".venv", "__pycache__", ".dbos-compile-cache", "pkg"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "m.py").write_text(MODULE.format(i=0))
    (tmp_path / "pkg" / "m.pyi").write_text(MODULE.format(i=0))
    result = run_check([tmp_path], Config(root=tmp_path))
    assert [f.path for f in result.files] == [f"{tmp_path.as_posix()}/pkg/m.py"]
    # Files named explicitly are checked whatever their directory.
    explicit = run_check([tmp_path / ".venv" / "m.py"], Config(root=tmp_path))
    assert explicit.count == 1


def test_code_selection_prefers_the_most_specific_prefix() -> None:
    assert code_selected("DBOS111", [], [])
    assert not code_selected("DBOS111", ["DBOS2"], [])
    assert not code_selected("DBOS111", [], ["DBOS11"])
    assert code_selected("DBOS111", ["DBOS111"], ["DBOS1"])
    assert not code_selected("DBOS111", ["DBOS1"], ["DBOS111"])


def test_explicit_config_file(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MODULE.format(i=0))
    (tmp_path / "elsewhere.toml").write_text('[tool.dbos-compile]\nextra-allowed = ["time"]\n')
    result = dbos_compile("check", "--config", "elsewhere.toml", "m.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert dbos_compile("check", "-j", "0", "m.py", cwd=tmp_path).returncode == 2


def test_benchmark_runs_and_reports_a_ratio() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/checker_bench.py",
            "--modules",
            "3",
            "--repeat",
            "1",
            "--packages",
            "jinja2",
            "--max-lines",
            "2000",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "lines/s" in result.stdout and "ratio check/parse" in result.stdout
    assert "every module declaring workflows" in result.stdout
    assert "2 processes" in result.stdout


def test_partition_keeps_runs_contiguous_and_balanced() -> None:
    assert partition([1] * 10, 2) == [range(0, 5), range(5, 10)]
    assert partition([9, 1, 1, 1], 2) == [range(0, 1), range(1, 4)]
    assert partition([1, 1], 4) == [range(0, 1), range(1, 2)]
    runs = partition([3, 1, 4, 1, 5, 9, 2, 6], 3)
    assert [i for run in runs for i in run] == list(range(8))
