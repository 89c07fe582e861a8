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


def retry_forever() -> None:
    """A helper the workflow below calls: checked as part of it."""
    while True:
        try:
            DBOS.sleep(1)
            return
        except:  # expect: DBOS704
            continue


@DBOS.workflow()
def swallows_unwinding(n: int) -> int:
    retry_forever()
    try:
        DBOS.sleep(n)
    except BaseException:  # expect: DBOS704
        n = 0
    try:
        DBOS.sleep(n)
    except (KeyError, BaseException) as exc:  # expect: DBOS704
        raise RuntimeError("stopped") from exc
    try:
        DBOS.sleep(n)
    except BaseException:
        print("cleaning up")
        raise
    try:
        DBOS.sleep(n)
    except BaseException as exc:
        if isinstance(exc, Exception):
            print(exc)
        raise exc
    try:
        DBOS.sleep(n)
    except BaseException:  # expect: DBOS704

        def later() -> None:
            raise

        later_ = later
        print(later_)
    try:
        DBOS.sleep(n)
    except Exception:
        n = 1
    return n


@DBOS.workflow()
async def swallows_async() -> None:
    try:
        await DBOS.sleep_async(1)
    except BaseException:  # expect: DBOS704
        pass


@DBOS.step()
def step_may_catch_everything() -> None:
    try:
        print("work")
    except BaseException:
        pass
