"""Shared helpers for the lint tests: run the real console script, read corpus expectations."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "lint_corpus"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>DBOS\d{3}(?:\s*,\s*DBOS\d{3})*)")


def dbos_compile(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``dbos-compile`` entry point (what users and pre-commit run)."""
    script = Path(sys.executable).with_name("dbos-compile")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dbos_compile.cli"]
    return subprocess.run(
        [*command, *args], cwd=cwd or REPO, capture_output=True, text=True, timeout=120
    )


def expected_findings(directory: Path) -> set[tuple[str, int, str]]:
    """(file name, line, code) for every ``# expect: CODE[, CODE]`` marker under directory."""
    expected: set[tuple[str, int, str]] = set()
    for path in sorted(directory.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _EXPECT.search(line)
            if match:
                for code in match.group("codes").split(","):
                    expected.add((path.name, number, code.strip()))
    return expected
