"""Helpers for the ``dbos-compile build`` tests: run the real command and the fixture project
as subprocesses (the project registers workflows under fixed names, so each mode gets a
process of its own, as it would in production)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "build_fixtures"


def compile_cli(*args: str, cwd: Path, seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, "-m", "dbos_compile", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def copy_fixture(name: str, dest: Path) -> Path:
    """A copy of a fixture project (tests edit their sources)."""
    target = dest / "src" / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target.parent


def run_python(
    *args: str, path: Path, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, "PYTHONPATH": str(path)}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=full, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def files_under(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
