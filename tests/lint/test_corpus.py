"""Corpus tests: the seed's examples pass clean; bad modules are flagged line for line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lint_support import CORPUS, REPO, dbos_compile, expected_findings


def test_seed_examples_pass_clean() -> None:
    good = CORPUS / "good"
    assert len(list(good.glob("seed_*.py"))) >= 6
    result = dbos_compile("check", "--no-cache", str(good))
    assert result.stdout == ""
    assert result.returncode == 0, result.stderr


def test_bad_corpus_is_flagged_line_for_line() -> None:
    bad = CORPUS / "bad"
    result = dbos_compile("check", "--no-cache", "--format", "json", str(bad))
    assert result.returncode == 1, result.stderr
    found = {
        (Path(item["filename"]).name, item["location"]["row"], item["code"])
        for item in json.loads(result.stdout)
    }
    expected = expected_findings(bad)
    assert len(expected) > 80
    assert sorted(expected - found) == [], "expected but not flagged"
    assert sorted(found - expected) == [], "flagged but not expected"


def test_bad_corpus_covers_every_checker_rule() -> None:
    from dbos_lint import RULES

    covered = {code for _, _, code in expected_findings(CORPUS / "bad")}
    for path in (CORPUS / "flow").rglob("*.py"):
        covered |= {code for _, _, code in expected_findings(path.parent)}
    # DBOS000 (syntax) and DBOS901 (needs configuration) are covered by the CLI/config tests.
    assert covered == set(RULES) - {"DBOS000", "DBOS901"}


def test_checking_never_imports_the_checked_modules() -> None:
    code = (
        "import sys\n"
        "from dbos_compile.cli import main\n"
        f"main(['check', '--no-cache', {str(CORPUS)!r}])\n"
        "bad = [m for m in ('dbos', 'requests', 'aiohttp', 'fastapi', 'sqlalchemy')"
        " if m in sys.modules]\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr
