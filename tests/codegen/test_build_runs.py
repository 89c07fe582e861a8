"""Generated code runs like the decorated code it came from, on both databases: same results,
the same registered names and application version (so either recovers the other's crashed
workflow), and tracebacks at the user's file and lines."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from build_support import FIXTURES, REPO, compile_cli, run_python


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/build_fixtures compiled once for this module."""
    out = tmp_path_factory.mktemp("build") / "out"
    result = compile_cli("build", str(FIXTURES), "--out", str(out), cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _modes(built: Path) -> dict[str, Path]:
    return {"decorated": FIXTURES, "generated": built}


def _shop(
    mode_path: Path, role: str, workflow_id: str, url: str, marks: Path, version: str = ""
) -> dict[str, str]:
    env = {"SHOP_DATABASE_URL": url, "SHOP_MARKS": str(marks), "SHOP_VERSION": version}
    result = run_python("-m", "shop", role, workflow_id, path=mode_path, env=env, cwd=marks)
    if role == "start":
        assert result.returncode == -signal.SIGKILL, result.stderr
        return {}
    assert result.returncode == 0, result.stderr
    last: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return last


def _marks(marks: Path, label: str) -> list[str]:
    path = marks / f"{label}.mark"
    return path.read_text().split() if path.exists() else []


def test_generated_code_gives_the_decorated_results(
    built: Path, system_database_url: str, tmp_path: Path
) -> None:
    results = {}
    for mode, path in _modes(built).items():
        marks = tmp_path / mode
        marks.mkdir()
        results[mode] = _shop(path, "run", "-", system_database_url, marks)
    assert (
        results["generated"]
        == results["decorated"]
        == {
            "checkout": 650,
            "batch": 500,
            "pay": 12,
            "quadruple": 12,
        }
    )


@pytest.mark.parametrize(
    "crashed, recovers", [("decorated", "generated"), ("generated", "decorated")]
)
def test_a_workflow_crashed_in_one_mode_is_recovered_by_the_other(
    built: Path, system_database_url: str, tmp_path: Path, crashed: str, recovers: str
) -> None:
    modes = _modes(built)
    # Compiled code's version is its durable shapes', decorated code's its source's: an app
    # switching modes pins application_version for the switch (docs/checker/safe-deploys.md).
    _shop(modes[crashed], "start", "order-1", system_database_url, tmp_path, "v1")
    first = _marks(tmp_path, "price-cake")
    assert len(first) == 1 and _marks(tmp_path, "after-sleep") == []
    report = _shop(modes[recovers], "recover", "order-1", system_database_url, tmp_path, "v1")
    assert report["result"] == 250 + 400 + 250
    # Completed steps were not run again: the crashed process priced both items once; the
    # recovering one ran only what came after the crash.
    assert _marks(tmp_path, "price-cake") == first
    tea = _marks(tmp_path, "price-tea")
    after = _marks(tmp_path, "after-sleep")
    assert len(tea) == 2 and tea[0] == first[0] and len(after) == 1 and tea[1] == after[0]
    assert after[0] != first[0]


def test_tracebacks_name_the_user_source_file_and_line(
    built: Path, system_database_url: str, tmp_path: Path
) -> None:
    script = (
        "import json, os, traceback\n"
        "from dbos import DBOS\n"
        "from shop import orders\n"
        "DBOS(config={'name': 'shop', 'system_database_url': os.environ['SHOP_DATABASE_URL']})\n"
        "DBOS.launch()\n"
        "try:\n"
        "    orders.broken('tea')\n"
        "except ValueError as exc:\n"
        "    tb = traceback.extract_tb(exc.__traceback__)\n"
        "    print(json.dumps([[f.filename, f.lineno, f.line] for f in tb]))\n"
        "DBOS.destroy()\n"
    )
    frames = {}
    for mode, path in _modes(built).items():
        env = {"SHOP_DATABASE_URL": system_database_url}
        result = run_python("-c", script, path=path, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        shown = json.loads(result.stdout.strip().splitlines()[-1])
        frames[mode] = [f for f in shown if "build_fixtures" in f[0] or "/out/" in f[0]]
    source = str(FIXTURES / "shop" / "orders.py")
    lines = Path(source).read_text().splitlines()
    expected = [
        [source, lines.index("    return refuse(item)") + 1, "return refuse(item)"],
        [source, lines.index('    raise ValueError(f"no {item} today")') + 1,
         'raise ValueError(f"no {item} today")'],
    ]  # fmt: skip
    assert frames["decorated"] == expected
    assert frames["generated"] == expected


def test_the_seed_basic_example_runs_compiled(system_database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = compile_cli("build", str(REPO / "examples"), "--out", str(out), cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "_dbos_step_call_external_api((input_data,), {})" in (out / "basic_app.py").read_text()
    env = {"DBOS_SYSTEM_DATABASE_URL": system_database_url}
    ran = run_python(str(out / "basic_app.py"), path=out, env=env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "my_workflow returned 'ok'" in ran.stdout
    assert "recorded steps: ['call_external_api', 'process_result']" in ran.stdout


FASTAPI_CLIENT = """
import time
from fastapi.testclient import TestClient
import fastapi_app

with TestClient(fastapi_app.app) as client:
    started = client.post("/checkout/o1").json()
    assert started["redirect_url"], started
    client.post("/webhooks/payment/o1", params={"status": "completed"})
    deadline = time.monotonic() + 20
    status = None
    while time.monotonic() < deadline:
        status = client.get("/checkout/o1").json()["status"]
        if status == "order_completed":
            break
        time.sleep(0.05)
    print("checkout:", status)
    print("agent:", client.get("/agent", params={"prompt": "p", "n": 3}).text)
"""


def test_the_seed_fastapi_example_serves_compiled(system_database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert compile_cli("build", str(REPO / "examples"), "--out", str(out), cwd=REPO).returncode == 0
    generated = (out / "fastapi_app.py").read_text()
    assert (
        "_dbos_rt.recv(topic=" in generated
        and "_dbos_step_next_token((prompt, i), {})" in generated
    )
    env = {"DBOS_SYSTEM_DATABASE_URL": system_database_url}
    ran = run_python("-c", FASTAPI_CLIENT, path=out, env=env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "checkout: order_completed" in ran.stdout
    assert "agent: p-0 p-1 p-2" in ran.stdout
