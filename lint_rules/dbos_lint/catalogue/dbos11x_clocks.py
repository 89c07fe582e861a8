"""DBOS111-112: clocks, which a recovered run reads later (or, for a process clock, from an
unrelated origin).

Detected by ``checks/calls.py`` from the tables below: a call resolving to one of ``CALLS``;
one of ``SEEDABLE`` given fewer arguments than listed (``time.localtime()`` reads the clock,
``time.localtime(0)`` does not); a method of ``METHODS`` on an object of that class (the
running loop's ``time()``). The mypy plugin reads the same tables.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import EVENT_LOOP, Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

WALL_CLOCK = "DBOS111"
MONO_CLOCK = "DBOS112"

_TIME_WALL = "time time_ns".split()
_TIME_MONO = (
    "monotonic monotonic_ns perf_counter perf_counter_ns process_time process_time_ns "
    "thread_time thread_time_ns clock_gettime clock_gettime_ns"
).split()

RULES: tuple[Rule, ...] = (
    Rule(
        code=WALL_CLOCK,
        name="wall-clock-in-workflow",
        summary="A workflow reads the wall clock (`time.time`, `datetime.now`, `date.today`...).",
        message="`{name}` reads the wall clock in a workflow, so a recovered run sees a later "
        "time; read it in a @DBOS.step()",
        why="A recovered workflow runs later than the original. Decisions based on the current "
        "time (deadlines, dates in keys) then differ from the ones the original run made.",
        fix="Read the time in a `@DBOS.step()` and use its checkpointed result. Building fixed "
        "values (`datetime.datetime(2024, 1, 1)`, `timedelta(...)`) is fine.",
        flagged=(
            _wf("started = datetime.datetime.now()", head="import datetime\n"),
            _wf("day = date.today()", head="from datetime import date\n"),
            _wf("t = now()", head="from time import time as now\n"),
            "import time\nfrom dbos import DBOS\n\n_now = time.time\n\n\n@DBOS.workflow()\n"
            "def wf() -> float:\n    return _now()\n",
            _wf('t = getattr(time, "time")()', head="import time\n"),
        ),
        not_flagged=(
            _wf(
                "start = datetime(2024, 1, 1)\nend = start + timedelta(days=1)",
                head="from datetime import datetime, timedelta\n",
            ),
            _wf(
                "stamp = time.strftime('%Y', (2024, 1, 1, 0, 0, 0, 0, 1, 0))", head="import time\n"
            ),
        ),
    ),
    Rule(
        code=MONO_CLOCK,
        name="monotonic-clock-in-workflow",
        summary="A workflow reads a monotonic or CPU clock (`monotonic`, `perf_counter`...).",
        message="`{name}` reads a process clock in a workflow, so a recovered run sees another "
        "value; measure time inside a @DBOS.step()",
        why="Monotonic and CPU clocks are per-process: after recovery on another worker they "
        "restart from an unrelated value, so any branch on elapsed time replays differently.",
        fix="Measure durations inside a step, or record timestamps with a step.",
        flagged=(
            _wf("t0 = time.perf_counter()", head="import time\n"),
            _wf("t = asyncio.get_running_loop().time()", head="import asyncio\n", is_async=True),
        ),
        not_flagged=(
            "import time\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef timed() -> float:\n"
            "    return time.perf_counter()\n",
        ),
    ),
)

FAMILY = Family(
    rules=RULES,
    calls={
        **{f"time.{f}": WALL_CLOCK for f in _TIME_WALL},
        "datetime.datetime.today": WALL_CLOCK,
        "datetime.date.today": WALL_CLOCK,
        "datetime.datetime.now": WALL_CLOCK,
        "datetime.datetime.utcnow": WALL_CLOCK,
        **{f"time.{f}": MONO_CLOCK for f in _TIME_MONO},
    },
    seedable={
        "time.localtime": (1, WALL_CLOCK),
        "time.gmtime": (1, WALL_CLOCK),
        "time.ctime": (1, WALL_CLOCK),
        "time.asctime": (1, WALL_CLOCK),
        "time.strftime": (2, WALL_CLOCK),
    },
    methods={f"{EVENT_LOOP}.time": MONO_CLOCK},
)
