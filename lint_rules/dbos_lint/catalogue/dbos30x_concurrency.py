"""DBOS301-302: other threads and processes, and results taken in completion order: timing
decides the order, so a replay does not line up.

Detected by ``checks/calls.py`` from the tables below: a call resolving to one of ``CALLS`` or
into a module of ``MODULES`` (``SAFE`` names excepted: a lock is not a thread); any method of a
``CLIENTS`` object (a thread, an executor, a pool); a method of ``METHODS`` on the running
loop. The mypy plugin reads the same tables.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import EVENT_LOOP, Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

THREADS = "DBOS301"
COMPLETION_ORDER = "DBOS302"

RULES: tuple[Rule, ...] = (
    Rule(
        code=THREADS,
        name="threads-in-workflow",
        summary="A workflow starts threads, processes or executors (`threading`, "
        "`concurrent.futures`, `asyncio.to_thread`, `loop.run_in_executor`).",
        message="`{name}` runs code on another thread or process from a workflow; the order in "
        "which that work happens is not replayable; use steps, queues or child workflows",
        why="Work on other threads interleaves differently on every run, so steps started from "
        "them get step numbers in a different order and recovery cannot line them up. "
        "`asyncio.gather` and `asyncio.create_task` are not flagged: coroutines start in "
        "creation order on the workflow's own event loop.",
        fix="Run concurrent work as steps with `asyncio.gather`, enqueue child workflows on a "
        "`Queue`, or keep the thread inside a single step.",
        flagged=(
            _wf("t = threading.Thread(target=print)", head="import threading\n"),
            _wf(
                "pool = ThreadPoolExecutor()",
                head="from concurrent.futures import ThreadPoolExecutor\n",
            ),
            _wf("await asyncio.to_thread(print)", head="import asyncio\n", is_async=True),
            _wf(
                "loop = asyncio.get_running_loop()\nawait loop.run_in_executor(None, print)",
                head="import asyncio\n",
                is_async=True,
            ),
        ),
        not_flagged=(
            "import asyncio\nfrom dbos import DBOS\n\n\n@DBOS.step()\nasync def one(i: int) -> "
            "int:\n    return i\n\n\n@DBOS.workflow()\nasync def wf() -> list[int]:\n"
            "    return list(await asyncio.gather(one(1), one(2)))\n",
        ),
    ),
    Rule(
        code=COMPLETION_ORDER,
        name="completion-order-in-workflow",
        summary="A workflow consumes results in completion order (`asyncio.wait`, "
        "`asyncio.as_completed`).",
        message="`{name}` yields results in completion order, which changes between runs; use "
        "asyncio.gather (argument order), or DBOS.asyncio_wait, which records the order",
        why="Which task finishes first depends on timing, so code after it runs in a different "
        "order on recovery. `asyncio.gather` returns results in argument order.",
        fix="Use `await asyncio.gather(...)` and process results in a fixed order; where the "
        "first to finish must decide, `await DBOS.asyncio_wait(...)` (or `DBOS.wait_first` for "
        "workflow handles) records which finished, so a replay takes the same branch.",
        flagged=(
            _wf(
                "for fut in asyncio.as_completed([]):\n    await fut",
                head="import asyncio\n",
                is_async=True,
            ),
        ),
        not_flagged=(_wf("await asyncio.gather()", head="import asyncio\n", is_async=True),),
    ),
)

FAMILY = Family(
    rules=RULES,
    calls={
        **{f"asyncio.{f}": THREADS for f in ("to_thread", "run_coroutine_threadsafe")},
        **{f"asyncio.{f}": COMPLETION_ORDER for f in ("wait", "as_completed")},
    },
    modules={
        **{m: THREADS for m in ("threading", "_thread", "multiprocessing")},
        "concurrent.futures": THREADS,
    },
    clients={
        cls: THREADS
        for cls in (
            "threading.Thread",
            "threading.Timer",
            "concurrent.futures.ThreadPoolExecutor",
            "concurrent.futures.ProcessPoolExecutor",
            "multiprocessing.Process",
            "multiprocessing.pool.Pool",
        )
    },
    methods={f"{EVENT_LOOP}.{m}": THREADS for m in ("run_in_executor", "call_soon_threadsafe")},
    safe=frozenset(
        f"threading.{c}"
        for c in "Lock RLock Event Condition Semaphore BoundedSemaphore Barrier".split()
    ),
    mypy_aliases={
        "asyncio.tasks.wait": "asyncio.wait",
        "asyncio.tasks.as_completed": "asyncio.as_completed",
        "asyncio.threads.to_thread": "asyncio.to_thread",
        "asyncio.tasks.run_coroutine_threadsafe": "asyncio.run_coroutine_threadsafe",
    },
)
