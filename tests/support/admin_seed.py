"""Workflows the admin-tool tests (`dbos` command, dashboard) seed a system database with:
one that succeeds through steps, an event, a message and a child; one that fails in a step;
one that waits (live, to cancel); and one parked on a queue nobody serves."""

from __future__ import annotations

from dataclasses import dataclass

from dbos import DBOS, Queue, SetWorkflowID

PARKED = Queue("admin-parked", concurrency=3)


@DBOS.step()
def double(x: int) -> int:
    return 2 * x


@DBOS.step()
def explode(text: str) -> None:
    raise ValueError(f"boom: {text}")


@DBOS.workflow()
def child_wf(x: int) -> int:
    return double(x)


@DBOS.workflow()
def good_wf(x: int) -> int:
    y = double(x)
    DBOS.set_event("progress", "half")
    z = DBOS.start_workflow(child_wf, y).get_result()
    DBOS.set_event("progress", "done")
    return z + 1


@DBOS.workflow()
def bad_wf(text: str) -> None:
    double(1)
    explode(text)


@dataclass
class Order:
    item: str
    qty: int


@DBOS.workflow()
def order_wf(order: Order) -> str:
    return f"{double(order.qty)} x {order.item}"


@DBOS.workflow()
def waiting_wf() -> object:
    return DBOS.recv("go", timeout_seconds=3600)


@dataclass
class Seeded:
    good: str
    child: str
    bad: str
    waiting: str
    parked: str
    order: str


def seed(prefix: str = "t") -> Seeded:
    """Run the seed workflows in a launched DBOS (that serves no queue but its own)."""
    ids = Seeded(
        *(f"{prefix}-{name}" for name in ("good", "child", "bad", "waiting", "parked", "order"))
    )
    with SetWorkflowID(ids.good):
        assert good_wf(5) == 21
    ids.child = DBOS.list_workflows(parent_workflow_id=ids.good)[0].workflow_id
    with SetWorkflowID(ids.bad):
        handle = DBOS.start_workflow(bad_wf, "seeded")
    try:
        handle.get_result()
    except ValueError:
        pass
    with SetWorkflowID(ids.order):
        assert order_wf(Order("pen", 2)) == "4 x pen"
    DBOS.send(ids.good, "hello", topic="greeting")
    with SetWorkflowID(ids.waiting):
        DBOS.start_workflow(waiting_wf)
    with SetWorkflowID(ids.parked):
        PARKED.enqueue(child_wf, 1)
    return ids


def launch(url: str) -> None:
    DBOS.destroy()
    DBOS(config={"name": "admin-test", "system_database_url": url, "log_level": "WARNING"})
    DBOS.listen_queues([])
    DBOS.launch()
