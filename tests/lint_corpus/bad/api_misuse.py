"""DBOS API misuse: sql_session outside transactions, recv in steps, workflows from steps."""

from dbos import DBOS, Queue

queue = Queue("jobs")


@DBOS.workflow()
def child(x: int) -> int:
    return x


@DBOS.workflow()
def uses_session() -> None:
    DBOS.sql_session.execute("select 1")  # expect: DBOS701


@DBOS.step()
def step_session() -> None:
    DBOS.sql_session.execute("select 1")  # expect: DBOS701


@DBOS.transaction()
def proper_transaction() -> None:
    DBOS.sql_session.execute("select 1")


@DBOS.step()
def step_recv() -> None:
    DBOS.recv("topic")  # expect: DBOS702


@DBOS.transaction()
async def tx_recv() -> None:
    await DBOS.recv_async("topic")  # expect: DBOS702


@DBOS.step()
def step_starts_workflows() -> None:
    DBOS.start_workflow(child, 1)  # expect: DBOS703
    child(2)  # expect: DBOS703
    queue.enqueue(child, 3)  # expect: DBOS703


@DBOS.workflow()
def parent() -> None:
    DBOS.start_workflow(child, 1)
    child(2)
    queue.enqueue(child, 3)
    DBOS.recv("topic")
