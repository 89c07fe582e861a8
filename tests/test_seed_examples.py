"""The seed's examples, written as the seed writes them, on both backends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dbos import (
    DBOS,
    DBOSConfig,
    DBOSConfiguredInstance,
    SetWorkflowID,
    SetWorkflowTimeout,
    WorkflowHandle,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def dbos_test(system_database_url: str) -> Iterator[None]:
    """The seed's Testing fixture, plus this test's system database URL."""
    DBOS.destroy()
    config: DBOSConfig = {"name": "test-app", "system_database_url": system_database_url}
    DBOS(config=config)
    DBOS.reset_system_database()
    DBOS.launch()
    yield
    DBOS.destroy()


def test_basic_application_runs_as_a_program(system_database_url: str, tmp_path: Path) -> None:
    env = dict(os.environ, DBOS_SYSTEM_DATABASE_URL=system_database_url)
    for _ in range(2):  # a second run finds the schema in place and starts a new workflow
        out = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "basic_app.py")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "my_workflow returned 'ok'" in out.stdout
        assert "['call_external_api', 'process_result']" in out.stdout


def test_basic_application_defaults_to_sqlite_file_named_after_app(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DBOS_SYSTEM_DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "basic_app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "my_app.sqlite").exists()


attempts: dict[str, int] = {}


@DBOS.step(retries_allowed=True, max_attempts=10, interval_seconds=0.01)
def unreliable_api_call(url: str) -> str:
    attempts[url] = attempts.get(url, 0) + 1
    if attempts[url] < 3:
        raise ConnectionError("503 Service Unavailable")
    return f"body of {url}"


@DBOS.workflow()
def fetch_workflow(url: str) -> str:
    return unreliable_api_call(url)


def test_steps_with_retry_configuration(dbos_test: None) -> None:
    url = f"https://example.invalid/{os.urandom(4).hex()}"
    assert fetch_workflow(url) == f"body of {url}"
    assert attempts[url] == 3


@DBOS.step()
def long_running_task(data: str) -> str:
    return data.upper()


@DBOS.workflow()
def background_workflow(data: str) -> str:
    return long_running_task(data)


def test_background_workflows(dbos_test: None) -> None:
    handle: WorkflowHandle = DBOS.start_workflow(background_workflow, "input")
    assert handle.workflow_id
    result = handle.get_result()
    assert result == "INPUT"


processed: list[str] = []


@DBOS.workflow()
def process_payment(payment_id: str, amount: float) -> str:
    processed.append(payment_id)
    return "processed"


def handle_payment(payment_id: str, amount: float) -> str:
    with SetWorkflowID(f"payment-{payment_id}"):
        result = process_payment(payment_id, amount)
    return result


def test_idempotent_workflows(dbos_test: None) -> None:
    processed.clear()
    assert handle_payment("p1", 9.99) == "processed"
    assert handle_payment("p1", 9.99) == "processed"
    assert processed == ["p1"]


@DBOS.workflow()
def long_workflow(data: str) -> str:
    return "completed"


def test_workflow_timeout(dbos_test: None) -> None:
    with SetWorkflowTimeout(3600):
        result = long_workflow("input")
    assert result == "completed"
    status = DBOS.list_workflows(name="long_workflow")[0]
    assert status.workflow_deadline_epoch_ms is not None
    assert status.workflow_deadline_epoch_ms - status.created_at > 3_599_000  # type: ignore[operator]


def test_workflow_introspection(dbos_test: None) -> None:
    with SetWorkflowID("introspect-1"):
        background_workflow("a")
    pending = DBOS.list_workflows(status="PENDING", limit=10)
    completed = DBOS.list_workflows(status="SUCCESS", sort_desc=True)
    assert pending == []
    assert [w.workflow_id for w in completed] == ["introspect-1"]
    workflow_id = "introspect-1"
    steps = DBOS.list_workflow_steps(workflow_id)
    assert [s["function_name"] for s in steps] == ["long_running_task"]
    DBOS.cancel_workflow(workflow_id)  # already finished: stays SUCCESS
    assert DBOS.get_workflow_status(workflow_id).status == "SUCCESS"  # type: ignore[union-attr]
    DBOS.resume_workflow(workflow_id)
    forked = DBOS.fork_workflow(workflow_id, start_step=3)
    assert forked.get_result() == "A"


app = FastAPI()


@DBOS.step()
def process_order(order_id: str) -> dict:
    return {"order_id": order_id, "status": "processed"}


@app.post("/orders/{order_id}")
@DBOS.workflow()
def create_order(order_id: str) -> dict:
    return process_order(order_id)


@app.get("/orders/{order_id}/status")
def get_order_status(order_id: str):
    workflows = DBOS.list_workflows(workflow_id=order_id)
    return workflows[0] if workflows else None


def test_fastapi_integration(dbos_test: None) -> None:
    with SetWorkflowID("order-7"):
        assert create_order("7") == {"order_id": "7", "status": "processed"}
    status = get_order_status("order-7")
    assert status is not None and status.status == "SUCCESS"
    assert get_order_status("order-unknown") is None
    client = TestClient(app)  # no lifespan: the seed launches DBOS itself
    assert client.post("/orders/8").json() == {"order_id": "8", "status": "processed"}
    assert client.get("/orders/order-7/status").json()["status"] == "SUCCESS"
    assert client.get("/orders/nothing/status").json() is None


@DBOS.workflow()
def checkout_workflow(order_id: str) -> str:
    # Wait up to 5 minutes for payment confirmation
    payment_result = DBOS.recv(topic="payment", timeout_seconds=300)
    if payment_result is None:
        return "payment_timeout"
    if payment_result["status"] == "completed":
        return "order_completed"
    return "payment_failed"


def payment_webhook(workflow_id: str, status: str):
    DBOS.send(workflow_id, {"status": status}, topic="payment")


def test_workflow_communication_messages(dbos_test: None) -> None:
    paid = DBOS.start_workflow(checkout_workflow, "o-1")
    declined = DBOS.start_workflow(checkout_workflow, "o-2")
    payment_webhook(paid.workflow_id, "completed")
    payment_webhook(declined.workflow_id, "declined")
    assert paid.get_result() == "order_completed"
    assert declined.get_result() == "payment_failed"


@DBOS.step()
def generate_payment_url(order: dict) -> str:
    return f"https://pay.example.com/{order['id']}"


def test_workflow_communication_events(dbos_test: None) -> None:
    # The seed's events example reuses the name checkout_workflow; defined here so both run.
    @DBOS.workflow()
    def checkout_workflow(order: dict) -> str:
        payment_url = generate_payment_url(order)
        DBOS.set_event("payment_url", payment_url)
        return "completed"

    def checkout_handler(order: dict):
        handle = DBOS.start_workflow(checkout_workflow, order)
        url = DBOS.get_event(handle.workflow_id, "payment_url", timeout_seconds=30)
        return {"redirect_url": url}

    assert checkout_handler({"id": "o-3"}) == {"redirect_url": "https://pay.example.com/o-3"}


fetches: list[str] = []


@DBOS.dbos_class()
class DataProcessor(DBOSConfiguredInstance):
    def __init__(self, source_url: str):
        self.source_url = source_url
        super().__init__(config_name=source_url)

    @DBOS.step()
    def fetch_data(self) -> dict:
        fetches.append(self.source_url)
        return {"from": self.source_url}

    @DBOS.workflow()
    def process(self) -> dict:
        data = self.fetch_data()
        return {"transformed": data}


processor = DataProcessor("https://api.example.com/data")


def test_class_based_workflows(dbos_test: None) -> None:
    with SetWorkflowID("class-1"):
        result = processor.process()
    assert result == {"transformed": {"from": "https://api.example.com/data"}}
    status = DBOS.get_workflow_status("class-1")
    assert status is not None
    assert (status.class_name, status.config_name) == (
        "DataProcessor",
        "https://api.example.com/data",
    )
    assert status.input == {"args": [], "kwargs": {}}  # `self` is not stored
    # Recovery-style re-run through the stored class and config names finds the instance.
    fetches.clear()
    forked = DBOS.fork_workflow("class-1", start_step=1)
    assert forked.get_result() == result
    assert fetches == ["https://api.example.com/data"]
    handle = DBOS.start_workflow(processor.process)
    assert handle.get_result() == result


@DBOS.step()
async def async_fetch(url: str) -> str:
    await asyncio.sleep(0)
    return f"<{url}>"


@DBOS.workflow()
async def async_workflow(urls: list[str]) -> list[str]:
    await DBOS.sleep_async(0.01)
    results = []
    for url in urls:
        result = await async_fetch(url)
        results.append(result)
    return results


def test_async_workflows(dbos_test: None) -> None:
    async def main() -> list[str]:
        with SetWorkflowID("async-1"):
            return await async_workflow(["a", "b"])

    assert asyncio.run(main()) == ["<a>", "<b>"]
    steps = DBOS.list_workflow_steps("async-1")
    assert [s["function_name"] for s in steps] == ["DBOS.sleep", "async_fetch", "async_fetch"]
    assert DBOS.get_workflow_status("async-1").output == ["<a>", "<b>"]  # type: ignore[union-attr]


def test_async_handles_do_not_block_the_event_loop(dbos_test: None) -> None:
    async def main() -> tuple[list[str], str, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        tick_task = asyncio.create_task(ticker())
        with SetWorkflowID("async-handle"):
            handle = await DBOS.start_workflow_async(async_workflow, ["x"])
        result = await handle.get_result()
        again = await DBOS.retrieve_workflow_async("async-handle")
        status = await again.get_status()
        tick_task.cancel()
        return result, status.status, ticks

    result, status, ticks = asyncio.run(main())
    assert (result, status) == (["<x>"], "SUCCESS")
    assert ticks >= 2  # the loop kept running while the workflow slept durably
