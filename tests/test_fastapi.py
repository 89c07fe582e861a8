"""FastAPI on durable workflows: routes stacked on @DBOS.workflow(), DBOS(fastapi=app) tied to
the app's lifespan, and the example app served by a real uvicorn that is SIGKILLed mid-checkout."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from conftest import query_system_sql
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dbos import DBOS
from dbos._core.runtime import runtime_or_none

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fastapi_app.py"
HTTPX_EXAMPLE = ROOT / "examples" / "fastapi_httpx_app.py"


@DBOS.step()
def shout(text: str) -> str:
    return text.upper()


def make_app(events: list[str]) -> FastAPI:
    @asynccontextmanager
    async def user_lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append(f"user startup, launched={runtime_or_none() is not None}")
        yield
        events.append(f"user shutdown, launched={runtime_or_none() is not None}")

    app = FastAPI(lifespan=user_lifespan)

    @app.post("/echo/{word}")
    @DBOS.workflow(name="test_fastapi.echo")
    def echo(word: str, times: int = 1) -> dict[str, object]:
        return {"said": shout(word) * times, "workflow_id": DBOS.workflow_id}

    @app.post("/aecho/{word}")
    @DBOS.workflow(name="test_fastapi.aecho")
    async def aecho(word: str) -> dict[str, object]:
        return {"said": shout(word), "workflow_id": DBOS.workflow_id}

    @app.get("/status/{workflow_id}")
    def status(workflow_id: str):  # type: ignore[no-untyped-def]
        found = DBOS.list_workflows(workflow_id=workflow_id)
        return found[0] if found else None

    return app


def test_workflow_routes_launch_and_lifespan(system_database_url: str) -> None:
    DBOS.destroy()
    events: list[str] = []
    app = make_app(events)
    DBOS(
        config={"name": "api", "system_database_url": system_database_url, "log_level": "WARNING"},
        fastapi=app,
    )
    for _ in range(2):  # the app can start and stop more than once in one process
        with TestClient(app) as client:
            said = client.post("/echo/hi", params={"times": 2}).json()
            assert said["said"] == "HIHI"
            assert client.post("/aecho/yo").json()["said"] == "YO"
            status = client.get(f"/status/{said['workflow_id']}").json()
            assert status["status"] == "SUCCESS" and status["name"] == "test_fastapi.echo"
            assert status["output"] == {"said": "HIHI", "workflow_id": said["workflow_id"]}
            # FastAPI sees the workflow's own signature: a path and a query parameter.
            spec = client.get("/openapi.json").json()
            params = spec["paths"]["/echo/{word}"]["post"]["parameters"]
            assert {(p["name"], p["in"]) for p in params} == {("word", "path"), ("times", "query")}
        assert runtime_or_none() is None  # destroyed with the app
    assert events == ["user startup, launched=True", "user shutdown, launched=True"] * 2


# ------------------------------------------------------------------ the example, for real


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, port: int, tmp: Path, script: Path = EXAMPLE) -> None:
        self.url, self.port, self.tmp, self.script = url, port, tmp, script
        self.proc: subprocess.Popen[str] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(os.environ, DBOS_SYSTEM_DATABASE_URL=self.url, PORT=str(self.port))
        self.proc = subprocess.Popen(
            [sys.executable, str(self.script)],
            cwd=self.tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{self.base}/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        pytest.fail("server did not come up")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def server(system_database_url: str, tmp_path: Path) -> Iterator[Server]:
    DBOS.destroy()
    srv = Server(system_database_url, _free_port(), tmp_path)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.timeout(180)
def test_example_checkout_survives_a_sigkill_of_the_server(
    server: Server, system_database_url: str
) -> None:
    server.start()
    order = httpx.post(f"{server.base}/orders/o1", timeout=30).json()
    assert order == {"order_id": "o1", "status": "processed"}
    started = httpx.post(f"{server.base}/checkout/o2", timeout=30).json()
    assert started["redirect_url"] == "https://pay.example.com/session/o2"
    status = httpx.get(f"{server.base}/checkout/o2", timeout=30).json()
    assert status == {"status": "awaiting_payment"}

    server.kill()  # mid-checkout: the workflow waits in recv for the webhook
    server.start()
    again = httpx.post(f"{server.base}/checkout/o2", timeout=30).json()
    assert again == started  # the same checkout, the same recorded payment page
    assert httpx.post(
        f"{server.base}/webhooks/payment/o2", params={"status": "completed"}, timeout=30
    ).json() == {"received": "completed"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.base}/checkout/o2", timeout=30).json()
        if status["status"] == "order_completed":
            break
        time.sleep(0.05)
    assert status == {"status": "order_completed"}
    steps = query_system_sql(
        system_database_url,
        "SELECT function_name FROM {prefix}operation_outputs "
        "WHERE workflow_uuid = 'checkout-o2' ORDER BY function_id",
    )
    assert [s[0] for s in steps] == [
        "reserve_inventory",
        "create_payment_session",
        "DBOS.setEvent",
        "DBOS.setEvent",
        "DBOS.recv",
        "DBOS.sleep",
        "fulfill",
        "DBOS.setEvent",
    ]

    with httpx.stream("GET", f"{server.base}/agent", params={"prompt": "hi", "n": 4}) as resp:
        body = "".join(resp.iter_text())
    assert body == "hi-0 hi-1 hi-2 hi-3 "


@pytest.mark.timeout(120)
def test_example_async_workflows_share_the_apps_http_client(
    system_database_url: str, tmp_path: Path
) -> None:
    """The example under a real uvicorn: each restock's steps call the supplier through the
    client opened at startup (that workflows run on the server's loop, which objects bound to
    it need, is tested in test_async_caller_loop.py)."""
    DBOS.destroy()
    srv = Server(system_database_url, _free_port(), tmp_path, HTTPX_EXAMPLE)
    try:
        srv.start()
        expected = [  # the supplier starts every SKU at 3 in stock
            ("widget", 10, {"sku": "widget", "ordered": "po-widget-7", "count": 10}),
            ("gadget", 5, {"sku": "gadget", "ordered": "po-gadget-2", "count": 5}),
            ("widget", 12, {"sku": "widget", "ordered": "po-widget-2", "count": 12}),
            ("bolt", 2, {"sku": "bolt", "ordered": None, "count": 3}),
        ]
        for sku, wanted, result in expected:
            got = httpx.post(f"{srv.base}/restock/{sku}", params={"wanted": wanted}, timeout=30)
            assert got.json() == result
        rows = query_system_sql(
            system_database_url,
            "SELECT status FROM {prefix}workflow_status WHERE name LIKE '%restock'",
        )
        assert [r[0] for r in rows] == ["SUCCESS"] * 4
    finally:
        srv.stop()
