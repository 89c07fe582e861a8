"""Safe evolution: the manifest's durable shapes, ``dbos-compile diff`` for each kind of change,
``build --against`` gating a build, and the application version of compiled code following
the shapes (not the text)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from build_support import compile_cli, run_python

from dbos_compile.codegen import evolution
from dbos_compile.codegen.manifest import build_manifest
from dbos_compile.codegen.shape import module_shapes

BASE = """
from dbos import DBOS, Queue


@DBOS.step()
def reserve(order: str) -> str:
    return order


@DBOS.step()
def charge(order: str) -> int:
    return 1


@DBOS.step(name="ship")
def send_parcel(order: str) -> None:
    pass


@DBOS.step()
def audit(order: str) -> None:
    pass


@DBOS.workflow()
def order(order: str) -> int:
    reserve(order)
    paid = charge(order)
    if paid:
        send_parcel(order)
    for line in range(2):
        audit(order)
    DBOS.sleep(1)
    return paid


q = Queue("q")


@DBOS.workflow()
def fan_out() -> None:
    q.enqueue(other)


@DBOS.workflow()
def other() -> None:
    audit("x")
"""


def _manifest(source: str) -> dict[str, object]:
    return build_manifest({"app.py": module_shapes(textwrap.dedent(source).encode())})


def _verdict(new_source: str, workflow: str = "order") -> evolution.Verdict:
    verdicts = evolution.compare(_manifest(BASE), _manifest(new_source))
    return next(v for v in verdicts if v.workflow == workflow)


def test_the_manifest_records_calls_branches_and_loops_in_order() -> None:
    shape = _manifest(BASE)["workflows"]["order"]["shape"]  # type: ignore[index]
    assert shape == [
        {"op": "step", "name": "reserve"},
        {"op": "step", "name": "charge"},
        {"op": "branch", "paths": [[{"op": "step", "name": "ship"}], []]},
        {"op": "loop", "body": [{"op": "step", "name": "audit"}]},
        {"op": "sleep"},
    ]
    assert _manifest(BASE)["workflows"]["fan_out"]["shape"] == [{"op": "enqueue"}]  # type: ignore[index]


CHANGES = {
    "cosmetic": (
        BASE.replace("    paid = charge(order)", "    # charge once\n    paid = charge(order)\n"
                     "    print('charged', paid)").replace("return paid", "return int(paid)"),
        evolution.COMPATIBLE, "",
    ),
    "appended": (
        BASE.replace("    DBOS.sleep(1)\n", "    DBOS.sleep(1)\n    audit(order)\n"),
        evolution.NOTE, "after step 5, appended step `audit`",
    ),
    "inserted": (
        BASE.replace("    paid = charge(order)", "    audit(order)\n    paid = charge(order)"),
        evolution.BREAKING, "step 2: step `audit` inserted before step `charge`",
    ),
    "removed": (
        BASE.replace("    reserve(order)\n", ""),
        evolution.BREAKING, "step 1: step `reserve` removed",
    ),
    "renamed": (
        BASE.replace('@DBOS.step(name="ship")', '@DBOS.step(name="dispatch")'),
        evolution.BREAKING,
        "step 3: inside branch path 1, call 1: step `ship` renamed to `dispatch`",
    ),
    "renamed at top level": (
        BASE.replace("    reserve(order)\n", "    audit(order)\n"),
        evolution.BREAKING, "step 1: step `reserve` renamed to `audit`",
    ),
    "reordered": (
        BASE.replace("    reserve(order)\n    paid = charge(order)",
                     "    paid = charge(order)\n    reserve(order)"),
        evolution.BREAKING,
        "step 1: reordered: was step `reserve`, step `charge`, branch, loop, sleep; "
        "now step `charge`, step `reserve`, branch, loop, sleep",
    ),
    "moved into the loop": (
        BASE.replace("        audit(order)\n    DBOS.sleep(1)", "        audit(order)\n"
                     "        DBOS.sleep(1)"),
        evolution.BREAKING, "step 4: inside the loop, after call 1, added sleep",
    ),
}  # fmt: skip


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_kind_of_change_gets_its_verdict(change: str) -> None:
    source, kind, detail = CHANGES[change]
    verdict = _verdict(source)
    assert (verdict.kind, verdict.detail) == (kind, detail)
    assert _verdict(source, "other").kind == evolution.COMPATIBLE


def test_a_removed_workflow_is_breaking_and_a_new_one_is_not() -> None:
    verdicts = evolution.compare(
        _manifest(BASE), _manifest(BASE.replace("def other()", "def another()"))
    )
    lines = evolution.report(verdicts).splitlines()
    assert "another: compatible: new workflow" in lines
    assert "other: breaking: removed: its in-flight runs cannot recover" in lines
    assert evolution.any_breaking(verdicts)


def _project(root: Path, source: str) -> Path:
    src = root / "src"
    src.mkdir(exist_ok=True)
    (src / "app.py").write_text(textwrap.dedent(source))
    return src


def test_diff_and_build_against_exit_1_on_breaking_changes(tmp_path: Path) -> None:
    _project(tmp_path, BASE)
    assert compile_cli("build", "src", "--out", "v1", cwd=tmp_path).returncode == 0
    old = tmp_path / "v1" / "dbos-manifest.json"
    assert json.loads(old.read_text())["workflows"]["order"]["module"] == "app.py"

    _project(tmp_path, CHANGES["appended"][0])
    fine = compile_cli("build", "src", "--out", "v2", "--against", str(old), cwd=tmp_path)
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "order: compatible with a note: after step 5, appended step `audit`" in fine.stdout
    assert (tmp_path / "v2" / "app.py").exists()

    _project(tmp_path, CHANGES["inserted"][0])
    refused = compile_cli("build", "src", "--out", "v3", "--against", str(old), cwd=tmp_path)
    assert refused.returncode == 1
    assert "order: breaking: step 2: step `audit` inserted before step `charge`" in refused.stdout
    assert not (tmp_path / "v3").exists()

    assert compile_cli("build", "src", "--out", "v3", cwd=tmp_path).returncode == 0
    new = tmp_path / "v3" / "dbos-manifest.json"
    diff = compile_cli("diff", str(old), str(new), cwd=tmp_path)
    assert diff.returncode == 1
    assert diff.stdout.splitlines() == [
        "fan_out: compatible",
        "order: breaking: step 2: step `audit` inserted before step `charge`",
        "other: compatible",
    ]
    assert compile_cli("diff", str(old), str(old), cwd=tmp_path).returncode == 0
    (tmp_path / "bad.json").write_text("{}")
    assert compile_cli("diff", str(old), "bad.json", cwd=tmp_path).returncode == 2


VERSION = """
import os
from dbos import DBOS
import app
DBOS(config={"name": "v", "system_database_url": os.environ["URL"]})
DBOS.launch()
print(DBOS.application_version)
DBOS.destroy()
"""


def _version(tmp_path: Path, source: str, compiled: bool) -> str:
    src = _project(tmp_path, source)
    path = src
    if compiled:
        assert compile_cli("build", "src", "--out", "out", cwd=tmp_path).returncode == 0
        path = tmp_path / "out"
    env = {"URL": f"sqlite:///{tmp_path / 'v.sqlite'}"}
    ran = run_python("-c", VERSION, path=path, env=env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip().splitlines()[-1]


def test_compiled_code_keeps_its_version_across_a_cosmetic_edit(tmp_path: Path) -> None:
    cosmetic, appended = CHANGES["cosmetic"][0], CHANGES["inserted"][0]
    compiled = [_version(tmp_path, s, compiled=True) for s in (BASE, cosmetic, appended)]
    assert compiled[0] == compiled[1]  # same durable shape: old runs stay recoverable
    assert compiled[2] != compiled[0]  # a breaking change is a new version
    decorated = [_version(tmp_path, s, compiled=False) for s in (BASE, cosmetic)]
    assert decorated[0] != decorated[1]  # decorated code hashes its source text
