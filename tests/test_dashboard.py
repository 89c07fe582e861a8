"""The dashboard: its API through Starlette's TestClient on both backends, and the real
`dbos dashboard` server in a real headless Chromium (the list shows the seeded workflows, the
failed one's timeline shows its error, a cancel clicked and confirmed on the page changes the
status in the database)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import in_ci
from starlette.testclient import TestClient
from support.admin_seed import Seeded, launch, seed
from test_admin_cli import dbos_command, one_line_error, run_dbos, status_of

from dbos import DBOS
from dbos._admin.connect import open_session
from dbos._dashboard.app import ACTION_HEADER, build_app

ACT = {ACTION_HEADER: "1"}


@pytest.fixture
def seeded(system_database_url: str) -> Iterator[tuple[str, Seeded]]:
    launch(system_database_url)
    try:
        yield system_database_url, seed("dash")
    finally:
        DBOS.destroy()


@pytest.fixture
def client(seeded: tuple[str, Seeded]) -> Iterator[TestClient]:
    session = open_session(seeded[0])
    try:
        with TestClient(build_app(session), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        session.close()


def test_api(seeded: tuple[str, Seeded], client: TestClient) -> None:
    url, ids = seeded
    listed = client.get("/api/workflows").json()["workflows"]
    assert {ids.good, ids.bad, ids.waiting, ids.parked, ids.child} <= {
        w["workflow_id"] for w in listed
    }
    failed = client.get("/api/workflows", params={"status": "ERROR"}).json()["workflows"]
    assert [w["workflow_id"] for w in failed] == [ids.bad]
    on_queue = client.get("/api/workflows?queue=admin-parked&name=child_wf").json()["workflows"]
    assert [w["workflow_id"] for w in on_queue] == [ids.parked]
    two = client.get("/api/workflows?status=SUCCESS,ERROR&limit=2").json()["workflows"]
    assert len(two) == 2

    timeline = client.get(f"/api/workflows/{ids.good}").json()
    assert timeline["workflow"]["output"] == 21
    assert [c["workflow_id"] for c in timeline["children"]] == [ids.child]
    assert timeline["messages"][0]["topic"] == "greeting"
    assert timeline["events"] == [
        {
            "key": "progress",
            "value": "done",
            "history": [{"step_id": 2, "value": "half"}, {"step_id": 5, "value": "done"}],
        }
    ]
    bad = client.get(f"/api/workflows/{ids.bad}").json()
    assert bad["steps"][-1]["error"] == {"type": "ValueError", "message": "boom: seeded"}
    assert bad["steps"][-1]["attempts"] >= 1 and bad["steps"][-1]["started_at"] is not None

    queues = {q["name"]: q for q in client.get("/api/queues").json()["queues"]}
    assert queues["admin-parked"]["enqueued"] == 1 and queues["admin-parked"]["concurrency"] == 3
    workers = client.get("/api/workers").json()["workers"]
    assert workers and workers[0]["state"] == "alive" and workers[0]["heartbeat_at"]

    page = client.get("/queues")
    assert page.status_code == 200 and "admin-parked" in page.text

    cancelled = client.post(f"/api/workflows/{ids.waiting}/cancel", headers=ACT)
    assert cancelled.json() == {"workflow_id": ids.waiting, "status": "CANCELLED"}
    assert status_of(url, ids.waiting) == "CANCELLED"
    client.post(f"/api/workflows/{ids.waiting}/resume", headers=ACT).raise_for_status()
    assert status_of(url, ids.waiting) in ("ENQUEUED", "PENDING")
    forked = client.post(f"/api/workflows/{ids.good}/fork", headers=ACT, json={"step": 3})
    new_id = forked.json()["workflow_id"]
    assert DBOS.retrieve_workflow(new_id).get_result(polling_interval_sec=0.05) == 21


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "message"),
    [
        ("GET", "/api/workflows?limit=abc", None, 400, "limit must be a whole number"),
        ("GET", "/api/workflows?limit=0", None, 400, "limit must be between"),
        ("GET", "/api/workflows?offset=-1", None, 400, "offset must be between"),
        ("GET", "/api/workflows?status=DONE", None, 400, "unknown status 'DONE'"),
        ("GET", "/api/workflows?since=someday", None, 400, "invalid since"),
        ("GET", "/api/workflows/nope", None, 404, "no workflow with ID 'nope'"),
        ("GET", "/api/nothing", None, 404, "Not Found"),
        ("POST", "/api/workflows/nope/cancel", {}, 404, "no workflow"),
        ("POST", "/api/workflows/dash-good/fork", {"step": 0}, 400, "step must be"),
        ("POST", "/api/workflows/dash-good/fork", {"step": "x"}, 400, "step must be"),
        ("POST", "/api/workflows/dash-good/fork", "[1", 400, "not JSON"),
        ("POST", "/api/workflows/dash-good/resume", {}, 400, "has finished"),
        # IDs may hold "/": a GET of an action's path is the look-up of such an ID.
        ("GET", "/api/workflows/dash-good/cancel", None, 404, "no workflow with ID 'dash-good/c"),
        ("POST", "/api/workflows", {}, 405, "Method Not Allowed"),
    ],
)
def test_bad_requests_are_4xx(
    client: TestClient, method: str, path: str, body: object, code: int, message: str
) -> None:
    if isinstance(body, str):
        answer = client.request(method, path, content=body, headers=ACT)
    else:
        answer = client.request(method, path, json=body, headers=ACT)
    assert answer.status_code == code, answer.text
    assert message in answer.json()["error"]


def test_pages_errors_read_only_and_token(seeded: tuple[str, Seeded]) -> None:
    url, ids = seeded
    session = open_session(url)
    try:
        with TestClient(build_app(session, read_only=True), raise_server_exceptions=False) as c:
            assert c.get("/?status=nope").status_code == 400
            page = c.get("/workflows/nope")
            assert page.status_code == 404 and "no workflow with ID" in page.text
            timeline = c.get(f"/workflows/{ids.good}").text
            assert "read-only" in timeline and 'id="cancel"' not in timeline
            refused = c.post(f"/api/workflows/{ids.waiting}/cancel", headers=ACT)
            assert refused.status_code == 403 and "read-only" in refused.json()["error"]
        with TestClient(build_app(session), raise_server_exceptions=False) as c:
            # a cross-site form cannot add the header: no action without it
            assert c.post(f"/api/workflows/{ids.waiting}/cancel").status_code == 403
            assert status_of(url, ids.waiting) == "PENDING"
        with TestClient(build_app(session, token="s3cret"), raise_server_exceptions=False) as c:
            assert c.get("/api/workflows").status_code == 401
            assert (
                c.get("/api/workflows", headers={"Authorization": "Bearer wrong"}).status_code
                == 401
            )
            ok = c.get("/api/workflows", headers={"Authorization": "Bearer s3cret"})
            assert ok.status_code == 200
            entered = c.get("/?token=s3cret", follow_redirects=False)
            assert entered.status_code == 303 and "token" not in entered.headers["location"]
            assert c.get("/").status_code == 200  # the cookie carries it now
    finally:
        session.close()


@DBOS.workflow()
def dash_streamer(label: str) -> str:
    DBOS.write_stream("tokens", f"{label}-1")
    DBOS.write_stream("tokens", f"{label}-2")
    DBOS.close_stream("tokens")
    return label


@DBOS.workflow()
def dash_waiter() -> object:
    return DBOS.recv("never", timeout_seconds=3600)


def test_hostile_browsers_and_odd_workflows(seeded: tuple[str, Seeded]) -> None:
    from dbos import SetWorkflowID
    from dbos._dashboard.hosts import allowed_hosts

    url, ids = seeded
    with SetWorkflowID("tenant/a/streamer"):
        dash_streamer("t")
    with SetWorkflowID("tenant/b/waiter"):
        DBOS.start_workflow(dash_waiter)
    session = open_session(url)
    try:
        app = build_app(session, allowed_hosts=allowed_hosts("127.0.0.1"))
        with TestClient(app, raise_server_exceptions=False) as c:
            # DNS rebinding: a page elsewhere whose name now points here is refused.
            for foreign in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example"):
                refused = c.get("/api/workflows", headers={"host": foreign})
                assert refused.status_code == 421, foreign
            for ours in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"):
                assert c.get("/api/workflows", headers={"host": ours}).status_code == 200, ours
            local = {"host": "127.0.0.1:8000"}
            # Every answer, pages, API, errors and files alike, forbids framing and sniffing.
            for path in ("/", "/api/workflows", "/workflows/nope", "/static/dashboard.js"):
                answer = c.get(path, headers=local)
                assert answer.headers["x-frame-options"] == "DENY", path
                assert answer.headers["x-content-type-options"] == "nosniff", path
                assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
            # A workflow that wrote a stream has a page; IDs holding "/" work everywhere.
            page = c.get("/workflows/tenant/a/streamer", headers=local)
            assert page.status_code == 200 and "tokens: 2 values, closed" in page.text
            api_view = c.get("/api/workflows/tenant/a/streamer", headers=local).json()
            assert api_view["workflow"]["workflow_id"] == "tenant/a/streamer"
            cancel = c.post("/api/workflows/tenant/b/waiter/cancel", headers={**local, **ACT})
            assert cancel.status_code == 200 and cancel.json()["status"] == "CANCELLED"
            assert status_of(url, "tenant/b/waiter") == "CANCELLED"
        bound_elsewhere = build_app(session, allowed_hosts=allowed_hosts("dash.internal"))
        with TestClient(bound_elsewhere, raise_server_exceptions=False) as c:
            assert c.get("/", headers={"host": "dash.internal:80"}).status_code == 200
            assert c.get("/", headers={"host": "localhost"}).status_code == 421
        # A token beyond ASCII, right or wrong, is an answer, not a traceback.
        with TestClient(
            build_app(session, token="s3cr\u00e9t"), raise_server_exceptions=False
        ) as c:
            assert c.get("/api/workflows", params={"token": "w\u00f6rng"}).status_code == 401
            raw = {"Authorization": "Bearer \u00e9".encode("latin-1")}  # as a browser may send it
            assert c.get("/api/workflows", headers=raw).status_code == 401
            entered = c.get("/", params={"token": "s3cr\u00e9t"}, follow_redirects=False)
            assert entered.status_code == 303
    finally:
        session.close()


# ------------------------------------------------------------------- real server, real browser


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not shutil.which("chromedriver"):
        reason = "chromium is needed (apt-get install chromium chromium-driver; .ci/run does)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def dump_dom(url: str) -> str:
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=3000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def sqlite_seeded(tmp_path: Path) -> Iterator[tuple[str, Seeded]]:
    """Seeded on SQLite only: the browser sees the same page whatever the backend, which the
    API tests cover on both."""
    url = f"sqlite:///{tmp_path}/dbos_sys.sqlite"
    launch(url)
    try:
        yield url, seed("dash")
    finally:
        DBOS.destroy()


@pytest.fixture
def server(sqlite_seeded: tuple[str, Seeded]) -> Iterator[tuple[str, str, Seeded]]:
    url, ids = sqlite_seeded
    proc = subprocess.Popen(
        [*dbos_command(), "dashboard", "--db-url", url, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        yield found.group(0), url, ids
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_in_a_real_browser(server: tuple[str, str, Seeded], tmp_path: Path) -> None:
    chromium()  # skips (outside CI) on a machine without a browser
    base, url, ids = server
    listing = dump_dom(base)
    for workflow_id in (ids.good, ids.bad, ids.waiting, ids.parked):
        assert f'data-id="{workflow_id}"' in listing
    assert 'class="live on"' in listing  # the script's poll of the JSON API came back

    failed = dump_dom(f"{base}workflows/{ids.bad}")
    assert "boom: seeded" in failed and 'class="failed"' in failed

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    real_binary = Path("/usr/lib/chromium/chromium")  # Debian's, behind its /usr/bin wrapper
    if real_binary.exists():
        options.binary_location = str(real_binary)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1300,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        driver.get(f"{base}workflows/{ids.waiting}")
        driver.find_element(By.ID, "cancel").click()
        wait = WebDriverWait(driver, 20)
        alert = wait.until(expected_conditions.alert_is_present())
        assert ids.waiting in alert.text
        alert.accept()
        wait.until(
            expected_conditions.text_to_be_present_in_element((By.ID, "status"), "CANCELLED")
        )
        assert status_of(url, ids.waiting) == "CANCELLED"
        driver.get(base)
        driver.save_screenshot(str(tmp_path / "dashboard.png"))
    finally:
        driver.quit()
    assert (tmp_path / "dashboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The docs' picture of the dashboard is this screenshot: refresh it with
    # DBOS_DOCS_SCREENSHOT=docs/dashboard.png pytest tests/test_dashboard.py -k real_browser
    docs_copy = os.environ.get("DBOS_DOCS_SCREENSHOT")
    if docs_copy:
        shutil.copyfile(tmp_path / "dashboard.png", docs_copy)


def test_refuses_to_bind_beyond_loopback_without_a_token(tmp_path: Path) -> None:
    run_dbos("migrate", "--db-url", f"sqlite:///{tmp_path}/d.sqlite")
    exposed = run_dbos(
        "dashboard", "--db-url", f"sqlite:///{tmp_path}/d.sqlite", "--host", "0.0.0.0", check=False
    )
    assert "--token" in one_line_error(exposed)
    bad_port = run_dbos(
        "dashboard", "--db-url", f"sqlite:///{tmp_path}/d.sqlite", "--port", "99999", check=False
    )
    assert "--port" in one_line_error(bad_port)
