"""The one rule catalogue: every code's name, message, rationale, fix and examples.

The libcst checker, ``dbos-compile check``/``explain``, docs/rules.md and the tests all read this
table, so a rule's documentation and its behaviour cannot drift apart: the examples below are run
by the catalogue tests and must be flagged (or not) exactly as stated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dbos_lint import names as n

_HEAD = "from dbos import DBOS\n\n\n"


@dataclass(frozen=True)
class Rule:
    """One diagnostic. ``message`` may use ``{name}`` (the resolved qualified name)."""

    code: str
    name: str
    summary: str
    message: str
    why: str
    fix: str
    flagged: tuple[str, ...]
    not_flagged: tuple[str, ...]
    severity: str = "error"
    #: ``extra-forbidden`` names the examples are checked with (only DBOS901 needs any).
    example_forbidden: tuple[str, ...] = ()

    def format(self, name: str) -> str:
        return self.message.format(name=name)


def _wf(body: str, *, head: str = "", is_async: bool = False) -> str:
    """A small module with one workflow; keeps the examples readable in the docs."""
    lines = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    kw = "async def" if is_async else "def"
    return f"{head}{_HEAD}@DBOS.workflow()\n{kw} wf() -> None:\n{lines}"


_RULES: tuple[Rule, ...] = (
    Rule(
        code=n.SYNTAX,
        name="syntax-error",
        summary="The file could not be parsed, so none of its workflows were checked.",
        message="syntax error: {name}",
        why="A file that does not parse cannot be analysed; reporting it keeps a broken file "
        "from silently passing the check.",
        fix="Fix the syntax error (run `python -m py_compile FILE` for the interpreter's view).",
        flagged=("def broken(:\n    pass\n",),
        not_flagged=("def fine() -> None:\n    pass\n",),
    ),
    Rule(
        code=n.RANDOM,
        name="random-in-workflow",
        summary="A workflow uses the global `random` generator or an unseeded `random.Random()`.",
        message="`{name}` draws random numbers in a workflow, so a recovered run takes a "
        "different path; move it into a @DBOS.step()",
        why="On recovery DBOS re-executes the workflow function and replays recorded step "
        "outputs. A random draw made directly in the workflow is not recorded, so the replay "
        "sees a new value and can call different steps than the original run did.",
        fix="Draw the random value inside a `@DBOS.step()` function and pass it on; its result "
        "is checkpointed. A `random.Random(seed)` with a fixed seed is deterministic and allowed.",
        flagged=(
            _wf("x = random.randint(1, 6)", head="import random\n"),
            _wf("x = pick([1, 2])", head="from random import choice as pick\n"),
            _wf("rng = random.Random()", head="import random\n"),
        ),
        not_flagged=(
            _wf("rng = random.Random(42)\nx = rng.random()", head="import random\n"),
            "import random\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef roll() -> int:\n"
            "    return random.randint(1, 6)\n",
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(random: int) -> int:\n"
            "    return random\n",
        ),
    ),
    Rule(
        code=n.ENTROPY,
        name="os-entropy-in-workflow",
        summary="A workflow reads OS entropy (`secrets`, `os.urandom`, `random.SystemRandom`).",
        message="`{name}` reads OS entropy in a workflow, so a recovered run sees different "
        "bytes; move it into a @DBOS.step()",
        why="OS entropy is different on every call by design; a workflow that branches on it "
        "or passes it to a step replays differently after a crash.",
        fix="Generate tokens and keys in a `@DBOS.step()` so the value is checkpointed once.",
        flagged=(
            _wf("token = secrets.token_hex(16)", head="import secrets\n"),
            _wf("key = os.urandom(32)", head="import os\n"),
        ),
        not_flagged=(
            "import secrets\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef token() -> str:\n"
            "    return secrets.token_hex(16)\n",
        ),
    ),
    Rule(
        code=n.UUID,
        name="uuid-in-workflow",
        summary="A workflow generates a time- or entropy-based UUID (`uuid1`, `uuid4`, ...).",
        message="`{name}` generates a new UUID on every run, so a recovered workflow uses a "
        "different id; generate it in a @DBOS.step()",
        why="`uuid1` mixes the clock and host address, `uuid4` is random: a recovered workflow "
        "would produce a different id than the one the original run already handed out.",
        fix="Create the UUID in a `@DBOS.step()`, or derive it deterministically with "
        "`uuid.uuid5(namespace, name)` (or from `DBOS.workflow_id`).",
        flagged=(
            _wf("request_id = uuid.uuid4()", head="import uuid\n"),
            _wf("request_id = uuid1()", head="from uuid import uuid1\n"),
        ),
        not_flagged=(_wf('key = uuid.uuid5(uuid.NAMESPACE_URL, "x")', head="import uuid\n"),),
    ),
    Rule(
        code=n.WALL_CLOCK,
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
        code=n.MONO_CLOCK,
        name="monotonic-clock-in-workflow",
        summary="A workflow reads a monotonic or CPU clock (`monotonic`, `perf_counter`...).",
        message="`{name}` reads a process clock in a workflow, so a recovered run sees another "
        "value; measure time inside a @DBOS.step()",
        why="Monotonic and CPU clocks are per-process: after recovery on another worker they "
        "restart from an unrelated value, so any branch on elapsed time replays differently.",
        fix="Measure durations inside a step, or record timestamps with a step.",
        flagged=(_wf("t0 = time.perf_counter()", head="import time\n"),),
        not_flagged=(
            "import time\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef timed() -> float:\n"
            "    return time.perf_counter()\n",
        ),
    ),
    Rule(
        code=n.BLOCKING_SLEEP,
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
        code=n.ASYNC_SLEEP,
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
    Rule(
        code=n.FILESYSTEM,
        name="filesystem-in-workflow",
        summary="A workflow touches the file system (`open`, pathlib I/O, `os`, `shutil`...).",
        message="`{name}` touches the file system in a workflow; file contents and listings "
        "can change before recovery, so do it in a @DBOS.step()",
        why="Files can change, vanish or list in a different order between the original run and "
        "its recovery (possibly on another host), and writes are repeated on every replay.",
        fix="Move the read or write into a `@DBOS.step()` and pass the data through its return "
        "value. Pure path manipulation (`os.path.join`, `Path(a) / b`) is fine.",
        flagged=(
            _wf('data = open("config.json").read()'),
            _wf('text = Path("in.txt").read_text()', head="from pathlib import Path\n"),
            _wf('shutil.copy("a", "b")', head="import shutil\n"),
            _wf('names = os.listdir(".")', head="import os\n"),
        ),
        not_flagged=(
            _wf(
                'p = os.path.join("a", "b")\nq = Path("a") / "b"',
                head="import os\nfrom pathlib import Path\n",
            ),
        ),
    ),
    Rule(
        code=n.NETWORK,
        name="network-in-workflow",
        summary="A workflow does network I/O (`requests`, `httpx`, `aiohttp`, `socket`...).",
        message="`{name}` does network I/O in a workflow; responses differ on recovery and the "
        "request is repeated, so call it from a @DBOS.step()",
        why="A remote answer is not recorded unless it comes back through a step. On recovery "
        "the request is sent again and may get a different response (or fail).",
        fix="Put the call in a `@DBOS.step()` (with `retries_allowed=True` for transient "
        "failures) and call the step from the workflow.",
        flagged=(
            _wf('r = requests.get("https://example.com")', head="import requests\n"),
            _wf("client = httpx.Client()", head="import httpx\n"),
            _wf("session = aiohttp.ClientSession()", head="import aiohttp\n", is_async=True),
        ),
        not_flagged=(
            "import requests\nfrom dbos import DBOS\n\n\n@DBOS.step()\n"
            "def fetch(url: str) -> str:\n"
            "    return requests.get(url).text\n\n\n@DBOS.workflow()\ndef wf(url: str) -> str:\n"
            "    return fetch(url)\n",
            _wf(
                "try:\n    pass\nexcept requests.RequestException:\n    raise "
                "requests.HTTPError('x')",
                head="import requests\n",
            ),
        ),
    ),
    Rule(
        code=n.DATABASE,
        name="database-client-in-workflow",
        summary="A workflow opens a database client (`sqlite3`, `psycopg`, `pymongo`, `redis`...).",
        message="`{name}` talks to a database from a workflow; do it in a "
        "@DBOS.transaction() or @DBOS.step() so the effect is recorded once",
        why="Reads can return new data on recovery and writes run again on every replay. A "
        "`@DBOS.transaction()` commits its effect together with its checkpoint.",
        fix="Use `@DBOS.transaction()` with `DBOS.sql_session`, or wrap the client in a step.",
        flagged=(
            _wf('conn = sqlite3.connect("app.db")', head="import sqlite3\n"),
            _wf("r = redis.Redis()", head="import redis\n"),
        ),
        not_flagged=(
            "import sqlite3\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef count() -> int:\n"
            '    return sqlite3.connect("a.db").execute("select 1").fetchone()[0]\n',
        ),
    ),
    Rule(
        code=n.PROCESS,
        name="subprocess-in-workflow",
        summary="A workflow runs another process (`subprocess`, `os.system`, signals).",
        message="`{name}` starts or signals a process from a workflow; its effect is repeated "
        "on replay, so run it in a @DBOS.step()",
        why="A process's output and side effects are not recorded; recovery runs it again.",
        fix="Run the command in a `@DBOS.step()` and return what the workflow needs.",
        flagged=(
            _wf('subprocess.run(["ls"])', head="import subprocess\n"),
            _wf('os.system("ls")', head="import os\n"),
        ),
        not_flagged=(
            "import subprocess\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef ls() -> str:\n"
            '    return subprocess.run(["ls"], capture_output=True, text=True).stdout\n',
        ),
    ),
    Rule(
        code=n.THREADS,
        name="threads-in-workflow",
        summary="A workflow starts threads, processes or executors (`threading`, "
        "`concurrent.futures`, `asyncio.to_thread`).",
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
        ),
        not_flagged=(
            "import asyncio\nfrom dbos import DBOS\n\n\n@DBOS.step()\nasync def one(i: int) -> "
            "int:\n    return i\n\n\n@DBOS.workflow()\nasync def wf() -> list[int]:\n"
            "    return list(await asyncio.gather(one(1), one(2)))\n",
        ),
    ),
    Rule(
        code=n.COMPLETION_ORDER,
        name="completion-order-in-workflow",
        summary="A workflow consumes results in completion order (`asyncio.wait`, "
        "`asyncio.as_completed`).",
        message="`{name}` yields results in completion order, which changes between runs; use "
        "asyncio.gather (argument order) instead",
        why="Which task finishes first depends on timing, so code after it runs in a different "
        "order on recovery. `asyncio.gather` returns results in argument order.",
        fix="Use `await asyncio.gather(...)` and process results in a fixed order.",
        flagged=(
            _wf(
                "for fut in asyncio.as_completed([]):\n    await fut",
                head="import asyncio\n",
                is_async=True,
            ),
        ),
        not_flagged=(_wf("await asyncio.gather()", head="import asyncio\n", is_async=True),),
    ),
    Rule(
        code=n.ENVIRONMENT,
        name="host-state-in-workflow",
        summary="A workflow reads host or process state (`os.environ`, `os.getenv`, "
        "`os.getpid`, `platform`, `sys.argv`, `input`).",
        message="`{name}` reads host or process state in a workflow; it can differ on the "
        "worker that recovers it, so read it at startup or in a @DBOS.step()",
        why="A workflow may be recovered by another process or host with a different "
        "environment, command line or pid.",
        fix="Read configuration once at startup and pass it as a workflow argument, or read "
        "it in a step.",
        flagged=(
            _wf('url = os.environ["URL"]', head="import os\n"),
            _wf('url = os.getenv("URL")', head="import os\n"),
            _wf("args = sys.argv[1:]", head="import sys\n"),
        ),
        not_flagged=(
            'import os\nfrom dbos import DBOS\n\nURL = os.environ.get("URL")\n\n\n'
            "@DBOS.workflow()\ndef wf(url: str) -> str:\n    return url\n",
        ),
    ),
    Rule(
        code=n.SET_ORDER,
        name="set-iteration-in-workflow",
        summary="A workflow iterates a set directly (for-loop or comprehension).",
        message="iterating {name} in a workflow has no stable order (string hashes change per "
        "process); iterate sorted(...) instead",
        why="Set order depends on element hashes, and `str`/`bytes` hashes are randomised per "
        "process. A recovered workflow can then call steps in a different order, which DBOS "
        "reports as nondeterminism.",
        fix="Iterate `sorted(the_set)` (or keep a list / dict, which preserve insertion order).",
        flagged=(
            _wf('for tag in {"a", "b"}:\n    print(tag)'),
            _wf("seen = set(['a', 'b'])\nnames = [s.upper() for s in seen]"),
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(tags: set[str]) -> None:\n"
            "    for tag in tags:\n        print(tag)\n",
        ),
        not_flagged=(
            _wf('for tag in sorted({"b", "a"}):\n    print(tag)'),
            _wf("for k in {'a': 1}:\n    print(k)"),
        ),
    ),
    Rule(
        code=n.IDENTITY_HASH,
        name="hash-or-id-in-workflow",
        summary="A workflow uses `hash()` or `id()`, which differ between processes.",
        message="`{name}` is process-specific (randomised string hashes, memory addresses); "
        "use a stable digest such as hashlib.sha256",
        why="`hash()` of strings is salted per process and `id()` is a memory address, so "
        "values derived from them change when the workflow is recovered elsewhere.",
        fix="Use `hashlib` (e.g. `hashlib.sha256(key.encode()).hexdigest()`) or a real key.",
        flagged=(_wf('bucket = hash("user") % 8'), _wf("key = id(object())")),
        not_flagged=(
            _wf(
                'bucket = int(hashlib.sha256(b"user").hexdigest(), 16) % 8', head="import hashlib\n"
            ),
        ),
    ),
    Rule(
        code=n.PARAM_TYPE,
        name="unserializable-parameter",
        summary="A workflow, step or transaction parameter is annotated with a type that cannot "
        "be serialized (Callable, Iterator, Lock, socket, IO, module...).",
        message="parameter annotated `{name}` cannot be serialized, but workflow and step "
        "inputs are checkpointed; pass plain data instead",
        why="DBOS records every workflow and step input so the workflow can be recovered, "
        "listed and forked. Functions, generators, locks, sockets and open files cannot be "
        "written to the system database.",
        fix="Pass the data the callee needs (ids, strings, dicts, dataclasses) and create the "
        "resource inside the step.",
        flagged=(
            "from typing import Callable\nfrom dbos import DBOS\n\n\n@DBOS.workflow()\n"
            "def wf(callback: Callable[[int], None]) -> None:\n    pass\n",
            "import threading\nfrom dbos import DBOS\n\n\n@DBOS.step()\n"
            "def st(lock: threading.Lock) -> None:\n    pass\n",
        ),
        not_flagged=(
            "from typing import Callable\nfrom dbos import DBOS\n\n\n"
            "def helper(callback: Callable[[], None]) -> None:\n    callback()\n\n\n"
            "@DBOS.workflow()\ndef wf(items: list[str], meta: dict[str, int] | None) -> None:\n"
            "    pass\n",
        ),
    ),
    Rule(
        code=n.RETURN_TYPE,
        name="unserializable-return",
        summary="A workflow, step or transaction's return annotation cannot be serialized.",
        message="return type `{name}` cannot be serialized, but workflow and step outputs are "
        "checkpointed; return plain data instead",
        why="A step's return value is what recovery replays; a generator, file handle or "
        "connection cannot be recorded, so the step fails at runtime or recovery cannot "
        "reproduce it.",
        fix="Return materialised data (`list[...]` instead of `Iterator[...]`, the file's "
        "contents instead of the file).",
        flagged=(
            "from collections.abc import Iterator\nfrom dbos import DBOS\n\n\n@DBOS.step()\n"
            "def rows() -> Iterator[int]:\n    yield 1\n",
            "from typing import TextIO\nfrom dbos import DBOS\n\n\n@DBOS.step()\n"
            'def handle() -> TextIO:\n    return open("x")\n',
        ),
        not_flagged=(
            "from dbos import DBOS\n\n\n@DBOS.step()\ndef rows() -> list[int]:\n    return [1]\n",
        ),
    ),
    Rule(
        code=n.SQL_SESSION,
        name="sql-session-outside-transaction",
        summary="`DBOS.sql_session` is used in a workflow or step instead of a transaction.",
        message="`{name}` is only available inside a @DBOS.transaction() function",
        why="`DBOS.sql_session` is the session of the running transaction: its effect commits "
        "together with the transaction's checkpoint. In a workflow or step there is no such "
        "session, so the call fails at runtime (or commits outside the exactly-once guarantee).",
        fix="Move the database code into a `@DBOS.transaction()` function and call it from the "
        "workflow.",
        flagged=(_wf('DBOS.sql_session.execute("select 1")'),),
        not_flagged=(
            "from dbos import DBOS\n\n\n@DBOS.transaction()\ndef tx() -> None:\n"
            '    DBOS.sql_session.execute("select 1")\n',
        ),
    ),
    Rule(
        code=n.RECV_OUTSIDE,
        name="recv-outside-workflow",
        summary="`DBOS.recv` is called from a step or transaction.",
        message="`{name}` can only be called from a workflow, not from a step or transaction",
        why="`recv` consumes a message durably as part of the workflow's history; a step has no "
        "message history of its own, and a retried step would consume messages twice.",
        fix="Call `DBOS.recv` in the workflow and pass the message to the step.",
        flagged=(
            'from dbos import DBOS\n\n\n@DBOS.step()\ndef st() -> None:\n    DBOS.recv("topic")\n',
        ),
        not_flagged=(_wf('msg = DBOS.recv("topic", timeout_seconds=10)'),),
    ),
    Rule(
        code=n.WORKFLOW_IN_STEP,
        name="workflow-started-in-step",
        summary="A step or transaction starts, enqueues or calls a workflow.",
        message="`{name}` starts a workflow from inside a step; the step may be retried and "
        "start it twice; start child workflows from the workflow itself",
        why="Steps are retried and are not replayed statement by statement, so a workflow "
        "started from a step is not tied to the parent's history: a retry starts it again.",
        fix="Return what is needed from the step and start or enqueue the child workflow from "
        "the calling workflow.",
        flagged=(
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef child() -> None:\n    pass\n\n\n"
            "@DBOS.step()\ndef st() -> None:\n    DBOS.start_workflow(child)\n",
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef child() -> None:\n    pass\n\n\n"
            "@DBOS.step()\ndef st() -> None:\n    child()\n",
        ),
        not_flagged=(
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef child() -> None:\n    pass\n\n\n"
            "@DBOS.workflow()\ndef parent() -> None:\n    DBOS.start_workflow(child)\n",
        ),
    ),
    Rule(
        code=n.CONFIGURED,
        name="configured-forbidden-call",
        summary="A workflow calls a name listed in `extra-forbidden` in `[tool.dbos-compile]`.",
        message="`{name}` is listed as forbidden in workflows by the project's "
        "[tool.dbos-compile] extra-forbidden setting; call it from a @DBOS.step()",
        why="Projects know their own nondeterministic helpers (clients, caches, feature flags); "
        "listing them extends the catalogue without a plugin.",
        fix="Move the call into a step, or remove the name from `extra-forbidden`.",
        flagged=(_wf("on = flags.is_enabled('beta')", head="from myapp import flags\n"),),
        not_flagged=(_wf("x = flags.DEFAULTS", head="from myapp import flags\n"),),
        example_forbidden=("myapp.flags.is_enabled",),
    ),
)

RULES: Mapping[str, Rule] = MappingProxyType({r.code: r for r in _RULES})


def get_rule(code: str) -> Rule | None:
    return RULES.get(code.upper())
