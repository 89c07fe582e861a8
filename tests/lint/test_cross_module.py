"""Helpers a workflow calls in other modules of the project: followed, reported, cached."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from lint_support import CORPUS, REPO, dbos_compile

from dbos_compile.cache import ResultCache
from dbos_compile.config import Config
from dbos_compile.runner import PARALLEL_THRESHOLD, run_check

PROJECT = CORPUS / "project"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>DBOS\d{3}(?:\s*,\s*DBOS\d{3})*)")


def _expected(directory: Path) -> set[tuple[str, int, str]]:
    """Like lint_support.expected_findings, but recursive and keyed by path under directory."""
    found: set[tuple[str, int, str]] = set()
    for path in sorted(directory.rglob("*.py")):
        name = path.relative_to(directory).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _EXPECT.search(line)
            if match:
                found |= {(name, number, c.strip()) for c in match.group("codes").split(",")}
    return found


def _json(*args: str, cwd: Path | None = None) -> list[dict[str, object]]:
    result = dbos_compile("check", "--no-cache", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    items: list[dict[str, object]] = json.loads(result.stdout)
    return items


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@pytest.mark.parametrize(("name", "at_least"), [("project", 7), ("flow", 34)])
def test_project_corpus_is_flagged_line_for_line(name: str, at_least: int) -> None:
    root = CORPUS / name
    items = _json(str(root))
    found_rows = {
        (
            Path(str(item["filename"])).relative_to(root).as_posix(),
            item["location"]["row"],  # type: ignore[index]
            item["code"],
        )
        for item in items
    }
    expected = _expected(root)
    assert len(expected) >= at_least
    assert sorted(expected - found_rows) == [], "expected but not flagged"
    assert sorted(found_rows - expected) == [], "flagged but not expected"


def test_lookalike_project_is_clean() -> None:
    """Every shape of the billing app's problems, written deterministically: no finding."""
    result = dbos_compile("check", "--no-cache", str(CORPUS / "flow_clean"))
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_flow_messages_name_the_workflow_and_the_chain() -> None:
    items = _json(str(CORPUS / "flow"))

    def at(path: str, row: int) -> dict[str, object]:
        return next(
            i
            for i in items
            if str(i["filename"]).endswith(path) and i["location"]["row"] == row  # type: ignore[index]
        )

    # Re-exported twice (billing -> billing.util -> billing.util.clock): the chain names the
    # module that defines the helper.
    stamp = at("billing/util/clock.py", 10)
    assert (stamp["workflow"], stamp["chain"]) == ("charge", ["clock.stamp"])
    # A mixin in another module, reached through self from a class workflow.
    audit = at("billing/mixins.py", 10)
    assert (audit["workflow"], audit["chain"]) == (
        "Settlement.settle",
        ["mixins.AuditMixin._audit"],
    )
    # A project class built in the workflow: its constructor and its method are followed.
    flags = at("billing/config.py", 16)
    assert flags["chain"] == ["config.Flags.enabled"]
    client = at("billing/clients.py", 9)
    assert client["chain"] == ["clients.PaymentClient.__init__"]
    assert "in tests/lint_corpus/flow/billing/flows.py via" in str(client["message"])


def test_message_names_workflow_file_and_chain() -> None:
    result = dbos_compile("check", "--no-cache", str(PROJECT))
    lines = result.stdout.splitlines()
    scale = next(line for line in lines if "helpers.py:8:" in line)
    assert scale.endswith(
        "(reached from workflow `relative_import` in tests/lint_corpus/project/app/flows.py"
        " via `helpers.compute` -> `helpers._scale`)"
    )
    pong = next(line for line in lines if "cycle_b.py" in line)
    assert "via `cycle_a.ping` -> `cycle_b.pong`)" in pong
    # Several workflows reach helpers.compute: it is reported once, with the first chain.
    assert sum("helpers.py:12:" in line for line in lines) == 1


def test_checking_only_the_workflow_file_reports_in_the_helper_file() -> None:
    items = _json("tests/lint_corpus/project/app/flows.py", cwd=REPO)
    files = {str(item["filename"]) for item in items}
    assert "tests/lint_corpus/project/app/helpers.py" in files
    assert "tests/lint_corpus/project/app/flows.py" not in files
    jitter = next(item for item in items if item["location"] == {"row": 21, "column": 12})
    assert jitter["workflow"] == "absolute_import"
    assert jitter["chain"] == ["helpers.jitter"]
    assert jitter["code"] == "DBOS101"


APP = {
    "pyproject.toml": "[project]\nname = 'demo'\n",
    "src/demo/__init__.py": "",
    "src/demo/flows.py": """\
        from dbos import DBOS

        from demo.util import shape
        from demo import clock
        from missing_pkg.mod import thing


        @DBOS.workflow()
        def wf(x: int) -> int:
            return shape(x) + clock.time() + thing()
        """,
    "src/demo/util.py": """\
        def shape(x: int) -> int:
            return x * 2
        """,
    # A project module that looks like the stdlib's: its deterministic `time` is fine.
    "src/demo/clock.py": """\
        def time() -> int:
            return 0
        """,
}


def test_lookalikes_and_unresolved_imports_are_clean(tmp_path: Path) -> None:
    _write(tmp_path, APP)
    result = dbos_compile("check", "--no-cache", "src", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_editing_only_the_helper_invalidates_the_workflow_files_cache(tmp_path: Path) -> None:
    _write(tmp_path, APP)
    first = dbos_compile("check", "src/demo/flows.py", cwd=tmp_path)
    assert (first.returncode, first.stdout) == (0, "")
    assert list((tmp_path / ".dbos-compile-cache").glob("*/*.json"))

    util = tmp_path / "src/demo/util.py"
    util.write_text(
        "import random\n\n\ndef shape(x: int) -> int:\n    return random.randint(0, x)\n"
    )
    second = dbos_compile("check", "src/demo/flows.py", cwd=tmp_path)
    assert second.returncode == 1
    assert second.stdout.startswith("src/demo/util.py:5:12: DBOS101 ")
    assert "in src/demo/flows.py via `util.shape`" in second.stdout
    third = dbos_compile("check", "src/demo/flows.py", cwd=tmp_path)
    assert third.stdout == second.stdout  # replayed from the cache, foreign findings included

    # A module that did not exist when the result was cached now resolves: analysed again.
    _write(
        tmp_path,
        {
            "src/missing_pkg/__init__.py": "",
            "src/missing_pkg/mod.py": (
                "import os\n\n\ndef thing() -> int:\n    return os.getpid()\n"
            ),
        },
    )
    fourth = dbos_compile("check", "src/demo/flows.py", cwd=tmp_path)
    assert "src/missing_pkg/mod.py:5:12: DBOS401" in fourth.stdout

    # Deleting a helper makes the entry stale too.
    util.unlink()
    fifth = dbos_compile("check", "src/demo/flows.py", cwd=tmp_path)
    assert "util.py" not in fifth.stdout


def test_cache_records_dependencies_and_hits_when_nothing_changed(tmp_path: Path) -> None:
    _write(tmp_path, APP)
    config = Config(root=tmp_path)
    cache = ResultCache(tmp_path / ".cache", config.settings)
    first = run_check([tmp_path / "src"], config, cache=cache)
    assert first.cache_hits == 0
    second = run_check([tmp_path / "src"], config, cache=cache)
    assert second.cache_hits == second.checked == 4
    (tmp_path / "src/demo/clock.py").write_text(
        "import time\n\n\ndef time_() -> float:\n    return 1.0\n"
    )
    third = run_check([tmp_path / "src"], config, cache=cache)
    # clock.py itself changed, and flows.py read it: both analysed again, util/__init__ not.
    assert third.cache_hits == 2


def test_identical_files_in_different_packages_resolve_their_own_helpers(tmp_path: Path) -> None:
    flows = (
        "from dbos import DBOS\nfrom .util import f\n\n\n"
        "@DBOS.workflow()\ndef wf() -> int:\n    return f()\n"
    )
    _write(
        tmp_path,
        {
            "a/__init__.py": "",
            "a/flows.py": flows,
            "a/util.py": "def f() -> int:\n    return 1\n",
            "b/__init__.py": "",
            "b/flows.py": flows,
            "b/util.py": "import random\n\n\ndef f() -> int:\n    return random.randint(0, 1)\n",
        },
    )
    config = Config(root=tmp_path)
    for _ in range(2):  # cold, then warm cache
        result = run_check(
            [tmp_path], config, cache=ResultCache(tmp_path / ".cache", config.settings)
        )
        assert [
            (Path(f.path).relative_to(tmp_path).as_posix(), len(f.findings)) for f in result.files
        ] == [("b/util.py", 1)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_parallel_run_matches_serial_with_shared_helpers(tmp_path: Path, jobs: int) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/util.py": "import time\n\n\ndef now() -> float:\n    return time.time()\n",
    }
    for i in range(PARALLEL_THRESHOLD + 2):
        files[f"pkg/flow_{i:02d}.py"] = (
            "from dbos import DBOS\nfrom pkg.util import now\n\n\n"
            f"@DBOS.workflow()\ndef wf_{i}() -> float:\n    return now()\n"
        )
    _write(tmp_path, files)
    result = run_check([tmp_path], Config(root=tmp_path), jobs=jobs)
    assert [(Path(f.path).name, len(f.findings)) for f in result.files] == [("util.py", 1)]
    (finding,) = result.files[0].findings
    assert finding.workflow == "wf_0" and finding.chain == ("util.now",)


def test_cache_follows_re_exports_and_base_classes_in_other_files(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'shop'\n",
            "shop/__init__.py": "from .util import label\n",
            "shop/util/__init__.py": "from .text import label\n",
            "shop/util/text.py": "def label(x: str) -> str:\n    return x.upper()\n",
            "shop/mixins.py": (
                "class Audit:\n    def _note(self, event: str) -> str:\n        return event\n"
            ),
            "shop/flows.py": """\
                from dbos import DBOS, DBOSConfiguredInstance

                from shop import label
                from shop.mixins import Audit


                @DBOS.dbos_class()
                class Orders(Audit, DBOSConfiguredInstance):
                    @DBOS.workflow()
                    def place(self, item: str) -> str:
                        return self._note(label(item))
                """,
        },
    )
    first = dbos_compile("check", "shop/flows.py", cwd=tmp_path)
    assert (first.returncode, first.stdout) == (0, "")

    (tmp_path / "shop/util/text.py").write_text(
        "import time\n\n\ndef label(x: str) -> str:\n    return f'{x}{time.time()}'\n"
    )
    second = dbos_compile("check", "shop/flows.py", cwd=tmp_path)
    assert second.stdout.startswith("shop/util/text.py:5:18: DBOS111 "), second.stdout
    assert "via `text.label`" in second.stdout

    (tmp_path / "shop/mixins.py").write_text(
        "import os\n\n\nclass Audit:\n    def _note(self, event: str) -> str:\n"
        "        return event + os.environ['HOST']\n"
    )
    third = dbos_compile("check", "shop/flows.py", cwd=tmp_path)
    assert "shop/mixins.py:6:24: DBOS401" in third.stdout, third.stdout
    assert "via `mixins.Audit._note`" in third.stdout
    assert dbos_compile("check", "shop/flows.py", cwd=tmp_path).stdout == third.stdout


def test_a_step_calling_a_workflow_of_another_module_is_reported(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/children.py": (
                "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef child() -> None:\n    pass\n"
            ),
            "app/steps.py": (
                "from dbos import DBOS\n\nfrom .children import child\n\n\n"
                "@DBOS.step()\ndef st() -> None:\n    child()\n\n\n"
                "@DBOS.workflow()\ndef parent() -> None:\n    child()\n"
            ),
        },
    )
    items = _json("app", cwd=tmp_path)
    assert [(i["filename"], i["location"], i["code"]) for i in items] == [
        ("app/steps.py", {"row": 8, "column": 5}, "DBOS703")
    ]
