"""Steps and transactions used outside a workflow, as in upstream 2.x: a step called on its own
is a plain call; a transaction called on its own, or a step or transaction started with
`start_workflow` or `enqueue`, runs as a workflow of that one operation (`<temp>.<name>`),
recorded, with `DBOS.workflow_id` set, and recoverable in another process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbos import DBOS, Queue, SetWorkflowID

queue = Queue("outside.queue")
runs: list[str] = []


@DBOS.step()
def add_one_alone(x: int) -> int:
    runs.append(f"add_one_alone:{DBOS.workflow_id}")
    return x + 1


@DBOS.step()
async def add_two(x: int) -> int:
    return x + 2


@DBOS.transaction()
def count_rows(label: str) -> tuple[str | None, int]:
    session = DBOS.sql_session
    session.execute(sa.text("CREATE TABLE IF NOT EXISTS outside_rows (label TEXT)"))
    session.execute(sa.text("INSERT INTO outside_rows VALUES (:label)"), {"label": label})
    count = int(session.execute(sa.text("SELECT count(*) FROM outside_rows")).scalar_one())
    return DBOS.workflow_id, count


@DBOS.step()
def step_returning_a_lock() -> Any:
    import threading

    return threading.Lock()


@pytest.fixture
def launched(system_database_url: str, tmp_path: Path) -> Iterator[None]:
    DBOS.destroy()
    app_url = (
        f"sqlite:///{tmp_path / 'app.sqlite'}"
        if system_database_url.startswith("sqlite")
        else system_database_url
    )
    DBOS(
        config={
            "name": "outside-workflows",
            "system_database_url": system_database_url,
            "application_database_url": app_url,
        }
    )
    DBOS.launch()
    runs.clear()
    yield
    DBOS.destroy()


def test_a_step_called_on_its_own_is_a_plain_call(launched: None) -> None:
    assert add_one_alone(1) == 2
    assert runs == ["add_one_alone:None"]
    assert DBOS.list_workflows() == []


def test_a_transaction_called_on_its_own_is_a_recorded_workflow(launched: None) -> None:
    with SetWorkflowID("tx-alone"):
        workflow_id, count = count_rows("first")
    assert (workflow_id, count) == ("tx-alone", 1)
    status = DBOS.get_workflow_status("tx-alone")
    assert status is not None and status.status == "SUCCESS"
    assert status.name == "<temp>.count_rows"
    steps = DBOS.list_workflow_steps("tx-alone")
    assert [s["function_name"] for s in steps] == ["count_rows"]
    # The same workflow ID again returns the recorded outcome: the transaction does not run twice.
    with SetWorkflowID("tx-alone"):
        assert count_rows("again") == ("tx-alone", 1)
    _, count = count_rows("third")
    assert count == 2  # "again" was never inserted


def test_steps_and_transactions_can_be_started_and_enqueued(launched: None) -> None:
    with SetWorkflowID("step-started"):
        handle = DBOS.start_workflow(add_one_alone, 41)
    assert handle.get_result() == 42
    assert runs == ["add_one_alone:step-started"]
    assert DBOS.retrieve_workflow("step-started").get_status().name == "<temp>.add_one_alone"
    assert queue.enqueue(add_one_alone, 1).get_result() == 2
    assert queue.enqueue(add_two, 1).get_result() == 3
    started = DBOS.start_workflow(count_rows, "started").get_result()
    assert started[1] == 1
    with pytest.raises(TypeError):
        DBOS.start_workflow(add_one_alone, 1, 2)  # the step's own signature is checked


def test_a_started_step_with_an_unstorable_result_fails_there(launched: None) -> None:
    handle = DBOS.start_workflow(step_returning_a_lock)
    with pytest.raises(TypeError):
        handle.get_result()
    status = handle.get_status()
    assert status.status == "ERROR"
