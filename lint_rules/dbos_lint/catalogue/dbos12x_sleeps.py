"""DBOS121-122: sleeps that are not durable (a recovered workflow would wait the whole time
again).

Detected by ``checks/calls.py``: a call resolving to one of ``CALLS`` below. The mypy plugin
reads the same table.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

BLOCKING_SLEEP = "DBOS121"
ASYNC_SLEEP = "DBOS122"

RULES: tuple[Rule, ...] = (
    Rule(
        code=BLOCKING_SLEEP,
        name="blocking-sleep-in-workflow",
        summary="A workflow calls `time.sleep`, which is not durable.",
        message="`{name}` is not durable: the wait restarts from zero after a crash; use "
        "DBOS.sleep(seconds)",
        why="A workflow that crashes during `time.sleep` sleeps the full time again when it is "
        "recovered. `DBOS.sleep` records the wake-up time, so a recovered workflow only waits "
        "for what is left.",
        fix="Replace `time.sleep(s)` with `DBOS.sleep(s)`.",
        flagged=(_wf("time.sleep(5)", head="import time\n"),),
        not_flagged=(_wf("DBOS.sleep(5)"),),
    ),
    Rule(
        code=ASYNC_SLEEP,
        name="async-sleep-in-workflow",
        summary="An async workflow awaits `asyncio.sleep` (or anyio/trio), which is not durable.",
        message="`{name}` is not durable: the wait restarts from zero after a crash; use "
        "await DBOS.sleep_async(seconds)",
        why="Like `time.sleep`, an event-loop sleep is not recorded, so recovery waits the full "
        "time again and the wake-up is not part of the workflow's history.",
        fix="Replace `await asyncio.sleep(s)` with `await DBOS.sleep_async(s)`.",
        flagged=(_wf("await asyncio.sleep(1)", head="import asyncio\n", is_async=True),),
        not_flagged=(_wf("await DBOS.sleep_async(1)", is_async=True),),
    ),
)

FAMILY = Family(
    rules=RULES,
    calls={
        "time.sleep": BLOCKING_SLEEP,
        **{f"{m}.sleep": ASYNC_SLEEP for m in ("asyncio", "anyio", "trio")},
    },
    mypy_aliases={"asyncio.tasks.sleep": "asyncio.sleep"},
)
