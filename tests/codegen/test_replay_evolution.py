"""Replay against `dbos-compile diff`, on the evolution examples of `test_evolution.py`: a run of
the base code is recorded and exported once, then `dbos replay` runs each changed version of the
code against it. Every change the diff calls breaking fails the replay (exit 1, or 2 for a
workflow that is gone), every change it accepts replays (exit 0), and a change only visible at
run time (a step chosen through a table) passes the diff but fails the replay.

The histories are recorded on SQLite only: the replay never reads the database they came from
(exporting from PostgreSQL is tested in `tests/test_replay_cli.py`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from build_support import run_python
from test_evolution import BASE, CHANGES

from dbos_compile.codegen import evolution
from dbos_compile.codegen.manifest import build_manifest
from dbos_compile.codegen.shape import module_shapes

RECORD = """
import json, os, sys
from dbos import DBOS, SetWorkflowID
from dbos.testing import export_history
import app

DBOS(config={"name": "evolution", "system_database_url": os.environ["URL"]})
DBOS.launch()
histories = []
for spec in json.loads(sys.argv[1]):
    with SetWorkflowID(spec["id"]):
        getattr(app, spec["workflow"])(*spec["args"])
    histories.append(export_history(spec["id"]))
print(json.dumps(histories))
DBOS.destroy()
"""


def manifest(source: str) -> dict[str, object]:
    return build_manifest({"app.py": module_shapes(textwrap.dedent(source).encode())})


def record(folder: Path, source: str, runs: list[dict[str, object]]) -> Path:
    """Run `runs` under `source` (as module `app`) and write their histories to a file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(source))
    env = {"URL": f"sqlite:///{folder / 'recorded.sqlite'}"}
    ran = run_python("-c", RECORD, json.dumps(runs), path=folder, env=env, cwd=folder)
    assert ran.returncode == 0, ran.stderr
    histories = folder / "histories.json"
    histories.write_text(ran.stdout.strip().splitlines()[-1])
    return histories


def replay_against(folder: Path, source: str, histories: Path) -> subprocess.CompletedProcess[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [sys.executable, "-m", "dbos", "replay", str(histories), "--app", "app"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def base_histories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("recorded")
    runs: list[dict[str, object]] = [
        {"id": "order-1", "workflow": "order", "args": ["o1"]},
        {"id": "other-1", "workflow": "other", "args": []},
    ]
    return record(folder, BASE, runs)


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_replay_fails_exactly_where_the_diff_says_breaking(
    change: str, base_histories: Path, tmp_path: Path
) -> None:
    source, kind, _detail = CHANGES[change]
    verdict = next(
        v for v in evolution.compare(manifest(BASE), manifest(source)) if v.workflow == "order"
    )
    assert verdict.kind == kind
    done = replay_against(tmp_path, source, base_histories)
    assert "Traceback" not in done.stderr, done.stderr
    if kind == evolution.BREAKING:
        assert done.returncode == 1, (change, done.stdout, done.stderr)
        line = done.stdout.splitlines()[-1]  # after whatever the workflow body prints
        assert line.startswith("app.py:") and ": workflow order-1 step " in line, line
    else:
        summary = done.stdout.splitlines()[-1]
        assert (done.returncode, summary.startswith("replayed 2 histories")) == (0, True), (
            change,
            done.stdout,
            done.stderr,
        )


def test_a_removed_workflow_is_refused(base_histories: Path, tmp_path: Path) -> None:
    source = BASE.replace("def other()", "def another()")
    assert evolution.any_breaking(evolution.compare(manifest(BASE), manifest(source)))
    done = replay_against(tmp_path, source, base_histories)
    assert done.returncode == 2
    assert "workflow other-1: no workflow named 'other' in this code" in done.stderr


CHOSEN_BY_DATA = """
from dbos import DBOS


@DBOS.step()
def charge_card(order: str) -> str:
    return "card"


@DBOS.step()
def charge_invoice(order: str) -> str:
    return "invoice"


@DBOS.step()
def charge_card_v2(order: str) -> str:
    return "card v2"


METHODS = {"card": charge_card, "invoice": charge_invoice}


@DBOS.workflow()
def pay(order: str, method: str) -> str:
    charged = METHODS[method](order)
    return charged
"""


def test_a_step_chosen_by_data_is_caught_by_replay_only(tmp_path: Path) -> None:
    histories = record(
        tmp_path / "recorded",
        CHOSEN_BY_DATA,
        [{"id": "pay-1", "workflow": "pay", "args": ["o", "card"]}],
    )
    rerouted = CHOSEN_BY_DATA.replace('{"card": charge_card,', '{"card": charge_card_v2,')
    [verdict] = evolution.compare(manifest(CHOSEN_BY_DATA), manifest(rerouted))
    assert verdict.kind == evolution.COMPATIBLE  # nothing to see in the source's shape
    done = replay_against(tmp_path / "new", rerouted, histories)
    line = next(i for i, t in enumerate(rerouted.splitlines(), 1) if "METHODS[method](order)" in t)
    assert done.returncode == 1, done.stderr
    assert done.stdout == (
        f"app.py:{line}: workflow pay-1 step 1: recorded charge_card, called charge_card_v2\n"
    )
