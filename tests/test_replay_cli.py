"""`dbos workflow export` and `dbos replay` through their real entry point, in subprocesses: an
application (a module written to the test's folder) runs its workflows in one process, the
export reads them from its system database (SQLite and PostgreSQL), and the replay runs the
application's current code, as a CI job does before a deploy. Includes a run cut short by
SIGKILL: its exported in-flight history replays, a breaking edit is caught, and a recovery in a
new process then finishes the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import query_system_sql
from test_admin_cli import dbos_command

SHOP = """
import os
import signal

from dbos import DBOS, PickleSerializer

config = {"name": "shop", "system_database_url": os.environ.get("SHOP_DB", "sqlite:///x.sqlite")}
if os.environ.get("SHOP_PICKLE"):
    config["serializer"] = PickleSerializer()
DBOS(config=config)


@DBOS.step()
def reserve(order: str) -> str:
    return "reserved " + order


@DBOS.step()
def charge(order: str) -> int:
    if os.environ.get("SHOP_CRASH_AT_CHARGE"):
        os.kill(os.getpid(), signal.SIGKILL)
    return 42


@DBOS.step()
def ship(order: str) -> str:
    return "shipped"


@DBOS.workflow()
def deliver(order: str) -> str:
    return ship(order)


@DBOS.workflow()
def checkout(order: str) -> str:
    reserve(order)
    paid = charge(order)
    note = DBOS.recv("note", timeout_seconds=0.1)
    return f"{paid} {deliver(order)} {note}"
"""

RUNNER = """
import sys
from dbos import DBOS, SetWorkflowID
import shop

DBOS.launch()
for workflow_id in sys.argv[1:]:
    with SetWorkflowID(workflow_id):
        print(shop.checkout(workflow_id), flush=True)
DBOS.destroy()
"""


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(cwd), **(env or {})}
    full_env.pop("DBOS_SYSTEM_DATABASE_URL", None)
    done = subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def dbos(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run([*dbos_command(), *args], cwd, env)


def shop_dir(tmp_path: Path, source: str = SHOP) -> Path:
    (tmp_path / "shop.py").write_text(source)
    (tmp_path / "runner.py").write_text(RUNNER)
    return tmp_path


def run_shop(folder: Path, url: str, *ids: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "runner.py", *ids], folder, {"SHOP_DB": url, **env})


def line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def test_export_then_replay_the_same_and_a_changed_app(
    system_database_url: str, tmp_path: Path
) -> None:
    folder = shop_dir(tmp_path)
    done = run_shop(folder, system_database_url, "o1")
    assert done.returncode == 0 and done.stdout.strip() == "42 shipped None", done.stderr
    exported = dbos("workflow", "export", "o1", "--db-url", system_database_url, cwd=folder)
    assert exported.returncode == 0, exported.stderr
    history = json.loads(exported.stdout)  # one workflow: one JSON object
    assert history["workflow"]["workflow_id"] == "o1"
    assert [s["name"] for s in history["steps"]] == [
        "reserve",
        "charge",
        "DBOS.recv",
        "DBOS.sleep",
        "deliver",
        "DBOS.getResult",
    ]
    (folder / "o1.json").write_text(exported.stdout)

    ok = dbos("replay", "o1.json", "--app", "shop", cwd=folder)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.startswith("replayed 1 histories (6 recorded steps) in ")
    by_path = dbos(
        "replay", str(folder / "o1.json"), "--app", str(folder / "shop.py"), cwd=tmp_path.parent
    )
    assert (by_path.returncode, by_path.stderr) == (0, "")

    changed = SHOP.replace("    paid = charge(order)", "    paid = charge(order) if False else 0")
    changed = changed.replace("    reserve(order)\n", "    ship(order)\n")
    shop_dir(folder, changed)
    diverged = dbos("replay", "o1.json", "--app", "shop", cwd=folder)
    assert diverged.returncode == 1
    line = line_of(changed, "    ship(order)")
    assert diverged.stdout == f"shop.py:{line}: workflow o1 step 1: recorded reserve, called ship\n"


def test_export_by_filters_and_with_children(system_database_url: str, tmp_path: Path) -> None:
    folder = shop_dir(tmp_path)
    assert run_shop(folder, system_database_url, "f1", "f2", "f3").returncode == 0
    url = ["--db-url", system_database_url]
    many = dbos("workflow", "export", "--name", "checkout", "--status", "SUCCESS", *url, cwd=folder)
    histories = json.loads(many.stdout)
    assert [h["workflow"]["workflow_id"] for h in histories] == ["f1", "f2", "f3"]
    assert len(many.stdout.splitlines()) == 5  # "[", one line per history, "]"

    limited = dbos("workflow", "export", "--name", "checkout", "--limit", "2", *url, cwd=folder)
    assert [h["workflow"]["workflow_id"] for h in json.loads(limited.stdout)] == ["f1", "f2"]
    assert "more than 2 workflows match" in limited.stderr

    family = json.loads(
        dbos("workflow", "export", "f1", "--with-children", *url, cwd=folder).stdout
    )
    assert [h["workflow"]["name"] for h in family] == ["checkout", "deliver"]
    assert family[1]["workflow"]["parent_workflow_id"] == "f1"
    (folder / "all.json").write_text(json.dumps(family + histories))
    replayed = dbos("replay", "all.json", "--app", "shop", cwd=folder)
    assert replayed.returncode == 0 and "replayed 5 histories" in replayed.stdout

    empty = dbos("workflow", "export", "--status", "PENDING", *url, cwd=folder)
    assert json.loads(empty.stdout) == []  # nothing in flight: a CI replay of it passes
    (folder / "none.json").write_text(empty.stdout)
    assert dbos("replay", "none.json", "--app", "shop", cwd=folder).returncode == 0

    for bad in (["f1", "--name", "checkout"], [], ["f1", "--limit", "0"], ["nope"]):
        done = dbos("workflow", "export", *bad, *url, cwd=folder)
        assert done.returncode != 0 and done.stderr.startswith("dbos: "), bad


def test_export_never_unpickles(system_database_url: str, tmp_path: Path) -> None:
    folder = shop_dir(tmp_path)
    assert run_shop(folder, system_database_url, "p1", SHOP_PICKLE="1").returncode == 0
    # The exporting process has no pickle serializer configured, and needs none.
    exported = dbos("workflow", "export", "p1", "--db-url", system_database_url, cwd=folder)
    history = json.loads(exported.stdout)
    [(inputs, fmt)] = query_system_sql(
        system_database_url,
        "SELECT inputs, serialization FROM {prefix}workflow_status WHERE workflow_uuid = 'p1'",
    )
    assert (history["workflow"]["inputs"], history["workflow"]["serialization"]) == (inputs, fmt)
    assert fmt == "py_pickle"
    (folder / "p1.json").write_text(exported.stdout)
    refused = dbos("replay", "p1.json", "--app", "shop", cwd=folder)
    assert refused.returncode == 2 and "py_pickle" in refused.stderr
    # The application's own config opts in to pickle: the replay uses it.
    assert dbos("replay", "p1.json", "--app", "shop", cwd=folder, SHOP_PICKLE="1").returncode == 0


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    folder = shop_dir(tmp_path)
    url = f"sqlite:///{tmp_path}/shop.sqlite"
    assert run_shop(folder, url, "b1").returncode == 0
    good = dbos("workflow", "export", "b1", "--db-url", url, cwd=folder).stdout
    history = json.loads(good)
    files = {
        "truncated.json": good[: len(good) // 2],
        "newer.json": json.dumps({**history, "format_version": 99}),
        "renamed.json": json.dumps({**history, "workflow": {**history["workflow"], "name": "pay"}}),
        "empty.json": "",
        "other.json": json.dumps({"hello": "world"}),
    }
    expected = {
        "truncated.json": "truncated.json: not valid JSON (truncated?)",
        "newer.json": "history format version 99 is newer than version 1",
        "renamed.json": "no workflow named 'pay' in this code (it has: checkout, deliver)",
        "empty.json": "empty file",
        "other.json": "not a workflow history",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
        done = dbos("replay", name, "--app", "shop", cwd=folder)
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert done.stdout == ""
        [line] = done.stderr.splitlines()
        assert line.startswith("dbos: ") and expected[name] in line, line

    (folder / "b1.json").write_text(good)
    missing = dbos("replay", "b1.json", "--app", "no_such_module", cwd=folder)
    assert missing.returncode == 2 and "cannot import app module 'no_such_module'" in missing.stderr
    absent = dbos("replay", "nowhere.json", "--app", "shop", cwd=folder)
    assert absent.returncode == 2 and "nowhere.json: cannot read" in absent.stderr

    (folder / "launching.py").write_text(SHOP + "\nDBOS.launch()\n")
    refused = dbos("replay", "b1.json", "--app", "launching", cwd=folder)
    assert refused.returncode == 2
    assert "importing launching calls DBOS.launch()" in refused.stderr
    assert not (folder / "x.sqlite").exists()  # the app's own database was never opened


def test_keep_going_reports_every_diverging_history(tmp_path: Path) -> None:
    folder = shop_dir(tmp_path)
    url = f"sqlite:///{tmp_path}/shop.sqlite"
    assert run_shop(folder, url, "k1", "k2").returncode == 0
    for workflow_id in ("k1", "k2"):
        exported = dbos("workflow", "export", workflow_id, "--db-url", url, cwd=folder)
        (folder / f"{workflow_id}.json").write_text(exported.stdout)
    shop_dir(
        folder, SHOP.replace("@DBOS.step()\ndef reserve", '@DBOS.step(name="hold")\ndef reserve')
    )
    first = dbos("replay", "k1.json", "k2.json", "--app", "shop", cwd=folder)
    assert first.returncode == 1 and len(first.stdout.splitlines()) == 1
    every = dbos("replay", "k1.json", "k2.json", "--app", "shop", "--keep-going", cwd=folder)
    assert every.returncode == 1
    assert [line.split(": ", 1)[1] for line in every.stdout.splitlines()] == [
        "workflow k1 step 1: recorded reserve, called hold",
        "workflow k2 step 1: recorded reserve, called hold",
    ]


@pytest.mark.slow
def test_a_run_killed_mid_workflow_replays_then_recovers(
    system_database_url: str, tmp_path: Path
) -> None:
    folder = shop_dir(tmp_path)
    crashed = run_shop(folder, system_database_url, "c1", SHOP_CRASH_AT_CHARGE="1")
    assert crashed.returncode == -9  # SIGKILLed inside `charge`
    exported = dbos("workflow", "export", "c1", "--db-url", system_database_url, cwd=folder)
    history = json.loads(exported.stdout)
    assert history["workflow"]["status"] == "PENDING"
    assert [s["name"] for s in history["steps"]] == ["reserve"]
    (folder / "c1.json").write_text(exported.stdout)

    # The run stands before `charge`: code that inserts a step there still recovers it ...
    inserted = SHOP.replace("    paid = charge(order)", "    ship(order)\n    paid = charge(order)")
    shop_dir(folder, inserted)
    assert dbos("replay", "c1.json", "--app", "shop", cwd=folder).returncode == 0
    # ... code that renames the step it already took does not.
    renamed = SHOP.replace("def reserve(order", "def hold(order").replace(
        "    reserve(", "    hold("
    )
    shop_dir(folder, renamed)
    diverged = dbos("replay", "c1.json", "--app", "shop", cwd=folder)
    assert diverged.returncode == 1 and "recorded reserve, called hold" in diverged.stdout

    # The original code, launched again, recovers the run from where the history says it was.
    shop_dir(folder)
    recovered = run(
        [sys.executable, "-c", textwrap.dedent(RECOVER)], folder, {"SHOP_DB": system_database_url}
    )
    assert recovered.returncode == 0 and recovered.stdout.strip() == "42 shipped None"


RECOVER = """
from dbos import DBOS
import shop

DBOS.launch()
print(DBOS.retrieve_workflow("c1").get_result())
DBOS.destroy()
"""
