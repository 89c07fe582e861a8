"""``dbos-compile`` as users run it: exit codes, output formats, code selection, explain."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lint_support import dbos_compile

from dbos_compile.cli import main
from dbos_lint import RULES

BAD = """\
import time
from dbos import DBOS


@DBOS.workflow()
def wf() -> float:
    for x in {"a", "b"}:
        print(x)
    return time.time()
"""
CLEAN = """\
from dbos import DBOS


@DBOS.workflow()
def wf() -> None:
    DBOS.sleep(1)
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "pkg" / "sub" / "clean.py").write_text(CLEAN)
    (tmp_path / "pkg" / "notes.txt").write_text("time.time()")
    return tmp_path


def test_text_output_and_exit_one(project: Path) -> None:
    result = dbos_compile("check", "pkg", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split(" ", 2)[:2] for line in lines] == [
        ["pkg/bad.py:7:14:", "DBOS501"],
        ["pkg/bad.py:9:12:", "DBOS111"],
    ]
    assert all(re.fullmatch(r"\S+:\d+:\d+: DBOS\d{3} .+", line) for line in lines)


def test_clean_exit_zero(project: Path) -> None:
    result = dbos_compile("check", "pkg/sub/clean.py", cwd=project)
    assert (result.returncode, result.stdout) == (0, "")


def test_usage_errors_exit_two(project: Path) -> None:
    assert dbos_compile("check", "missing.py", cwd=project).returncode == 2
    assert dbos_compile("check", "--select", "XYZ9", "pkg", cwd=project).returncode == 2
    assert dbos_compile("check", "--format", "xml", "pkg", cwd=project).returncode == 2
    assert dbos_compile("check", cwd=project).returncode == 2
    assert dbos_compile(cwd=project).returncode == 2
    assert dbos_compile("explain", "DBOS999", cwd=project).returncode == 2


def test_syntax_error_is_reported_and_other_files_still_checked(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text("def f(:\n    pass\n")
    result = dbos_compile("check", "--no-cache", "pkg", cwd=project)
    assert result.returncode == 1
    assert "pkg/broken.py:1:7: DBOS000 syntax error" in result.stdout
    assert "pkg/bad.py:9:12: DBOS111" in result.stdout
    only_broken = dbos_compile("check", "--no-cache", "pkg/broken.py", cwd=project)
    assert only_broken.returncode == 1


def test_select_and_ignore_by_code_and_prefix(project: Path) -> None:
    def codes(*args: str) -> list[str]:
        out = dbos_compile("check", *args, "pkg", cwd=project).stdout
        return [line.split()[1] for line in out.splitlines()]

    assert codes("--select", "DBOS5") == ["DBOS501"]
    assert codes("--ignore", "DBOS111") == ["DBOS501"]
    assert codes("--select", "DBOS1,DBOS5", "--ignore", "DBOS11") == ["DBOS501"]
    assert codes("--select", "DBOS111", "--ignore", "DBOS1") == ["DBOS111"]
    result = dbos_compile("check", "--ignore", "DBOS", "pkg", cwd=project)
    assert (result.returncode, result.stdout) == (0, "")


def test_json_format(project: Path) -> None:
    result = dbos_compile("check", "--format", "json", "pkg", cwd=project)
    assert result.returncode == 1
    items = json.loads(result.stdout)
    assert [(i["code"], i["location"], i["filename"]) for i in items] == [
        ("DBOS501", {"row": 7, "column": 14}, "pkg/bad.py"),
        ("DBOS111", {"row": 9, "column": 12}, "pkg/bad.py"),
    ]
    assert items[1]["name"] == "wall-clock-in-workflow"
    assert items[1]["workflow"] == "wf"
    assert items[1]["end_location"] == {"row": 9, "column": 23}
    clean = dbos_compile("check", "--format", "json", "pkg/sub", cwd=project)
    assert (clean.returncode, json.loads(clean.stdout)) == (0, [])


def test_sarif_format_has_valid_2_1_0_structure(project: Path) -> None:
    result = dbos_compile("check", "--format", "sarif", "pkg", cwd=project)
    assert result.returncode == 1
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dbos-compile"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == list(RULES)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    assert len(run["results"]) == 2
    for res in run["results"]:
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in {"error", "warning", "note"}
        assert res["message"]["text"]
        (location,) = res["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "pkg/bad.py"
        region = physical["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert region["endLine"] >= region["startLine"]
        assert res["partialFingerprints"]["primaryLocationLineHash"]


def test_explain_prints_docs_for_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    for code, rule in RULES.items():
        assert main(["explain", code.lower()]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"{code} {rule.name}")
        for text in (rule.summary, rule.why, rule.fix, "Flagged example 1:"):
            assert text in out
        assert "Not flagged example 1:" in out


def test_explain_via_console_script() -> None:
    result = dbos_compile("explain", "DBOS121")
    assert result.returncode == 0
    assert "DBOS.sleep" in result.stdout and "time.sleep(5)" in result.stdout


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dbos_compile", "explain", "DBOS101"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.startswith("DBOS101 random-in-workflow")


def test_suppression_comments(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import time\nfrom dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf() -> None:\n"
        "    time.time()  # dbos: ignore[DBOS111] logged only\n"
        "    time.sleep(1)  # dbos: ignore[DBOS111]\n"
        "    time.time(); time.sleep(1)  # dbos: ignore\n"
        "    x = '# dbos: ignore'; time.time()\n"
        "    time.monotonic()  # DBOS: IGNORE[dbos1]\n"
    )
    result = dbos_compile("check", "--no-cache", "m.py", cwd=tmp_path)
    assert [line.split(" ")[:2] for line in result.stdout.splitlines()] == [
        ["m.py:8:5:", "DBOS121"],
        ["m.py:10:27:", "DBOS111"],
    ]
