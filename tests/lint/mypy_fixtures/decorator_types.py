"""What the decorators' types say without any plugin: run by tests/lint/test_decorator_types.py
under ``mypy --strict``. A line marked ``type-error`` must be reported (the code varies between
mypy releases); every other line must pass (``assert_type`` fails when a type is not the one
written)."""

from __future__ import annotations

from typing_extensions import assert_type

from dbos import DBOS, DBOSConfiguredInstance, Queue, WorkflowHandle, WorkflowHandleAsync

queue = Queue("typed-queue")


@DBOS.workflow()
def ship(order_id: int, carrier: str = "post") -> list[str]:
    return [carrier] * order_id


@DBOS.workflow()
async def score(user: str) -> dict[str, float]:
    return {user: 1.0}


@DBOS.step()
def fetch(url: str) -> bytes:
    return url.encode()


@DBOS.dbos_class()
class Billing(DBOSConfiguredInstance):
    @DBOS.workflow()
    def charge(self, cents: int) -> bool:
        return cents > 0

    @DBOS.workflow()
    async def refund(self, cents: int) -> int:
        return -cents


billing = Billing("main")

# Decorated functions keep their own signatures.
assert_type(ship(3), list[str])
assert_type(fetch("u"), bytes)
assert_type(billing.charge(5), bool)

# start_workflow: the handle carries the return type (awaited for an async workflow).
handle = DBOS.start_workflow(ship, 3, carrier="boat")
assert_type(handle, WorkflowHandle[list[str]])
assert_type(handle.get_result(), list[str])
assert_type(DBOS.start_workflow(score, "ann").get_result(), dict[str, float])
assert_type(DBOS.start_workflow(billing.charge, 5).get_result(), bool)
assert_type(DBOS.start_workflow(billing.refund, 5).get_result(), int)

# Queue.enqueue likewise, also with the seed's partition_key= spelling.
assert_type(queue.enqueue(ship, 1).get_result(), list[str])
assert_type(queue.enqueue(score, "bo").get_result(), dict[str, float])
assert_type(queue.enqueue(billing.charge, 1).get_result(), bool)
assert_type(queue.enqueue(ship, 1, partition_key="p").get_result(), list[str])

# Wrong arguments are type errors.
DBOS.start_workflow(ship, "not an int")  # type-error
DBOS.start_workflow(ship)  # type-error
DBOS.start_workflow(ship, 1, carrier=2)  # type-error
DBOS.start_workflow(score, 42)  # type-error
DBOS.start_workflow(billing.charge, "five")  # type-error
queue.enqueue(ship, "x")  # type-error
queue.enqueue(score, "a", "b")  # type-error
wrong: WorkflowHandle[int] = DBOS.start_workflow(ship, 1)  # type-error
DBOS.run_step(None, fetch, 3)  # type-error
assert_type(DBOS.run_step(None, fetch, "u"), bytes)


async def from_async_code() -> None:
    started = await DBOS.start_workflow_async(score, "cy")
    assert_type(started, WorkflowHandleAsync[dict[str, float]])
    assert_type(await started.get_result(), dict[str, float])
    queued = await queue.enqueue_async(ship, 2)
    assert_type(await queued.get_result(), list[str])
    method = await DBOS.start_workflow_async(billing.refund, 1)
    assert_type(await method.get_result(), int)
    await DBOS.start_workflow_async(score, 1)  # type-error
    await queue.enqueue_async(ship, order_id="x")  # type-error
