"""Rules about values a recovered run would see differently: randomness, clocks, sleeps, host
and module state, set order, process-specific hashes."""

from __future__ import annotations

from dbos_lint.catalogue import names as n
from dbos_lint.catalogue.rule import Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

RULES: tuple[Rule, ...] = (
    Rule(
        code=n.RANDOM,
        name="random-in-workflow",
        summary="A workflow draws from a global or unseeded generator (`random`, `numpy.random`, "
        "`random.Random()`, `default_rng()`), or from one shared at module level.",
        message="`{name}` draws random numbers in a workflow, so a recovered run takes a "
        "different path; move it into a @DBOS.step()",
        why="On recovery DBOS re-executes the workflow function and replays recorded step "
        "outputs. A random draw made directly in the workflow is not recorded, so the replay "
        "sees a new value and can call different steps than the original run did. A seeded "
        "generator kept at module level is no better: every workflow of the process draws from "
        "it, so what one run gets depends on the runs before it.",
        fix="Draw the random value inside a `@DBOS.step()` function and pass it on; its result "
        "is checkpointed. A `random.Random(seed)` (or `np.random.default_rng(seed)`) made in the "
        "workflow with a fixed seed is deterministic and allowed.",
        flagged=(
            _wf("x = random.randint(1, 6)", head="import random\n"),
            _wf("x = pick([1, 2])", head="from random import choice as pick\n"),
            _wf("rng = random.Random()", head="import random\n"),
            _wf("noise = np.random.normal(0, 1, 3)", head="import numpy as np\n"),
            _wf("rng = np.random.default_rng()", head="import numpy as np\n"),
            "import random\nfrom dbos import DBOS\n\nRNG = random.Random(7)\n\n\n"
            "@DBOS.workflow()\n"
            "def wf() -> float:\n    return RNG.random()\n",
        ),
        not_flagged=(
            _wf("rng = random.Random(42)\nx = rng.random()", head="import random\n"),
            "import random\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef roll() -> int:\n"
            "    return random.randint(1, 6)\n",
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(random: int) -> int:\n"
            "    return random\n",
            _wf(
                "rng = np.random.default_rng(42)\nx = rng.random(3)",
                head="import numpy as np\n",
            ),
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
        code=n.MONO_CLOCK,
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
            _wf('region = E.get("REGION")', head="from os import environ as E\n"),
            "import os\nfrom dbos import DBOS\n\n\nclass Flags:\n"
            "    def on(self, name: str) -> bool:\n"
            '        return os.environ.get(name) == "1"\n\n\n@DBOS.workflow()\n'
            'def wf() -> bool:\n    return Flags().on("beta")\n',
        ),
        not_flagged=(
            'import os\nfrom dbos import DBOS\n\nURL = os.environ.get("URL")\n\n\n'
            "@DBOS.workflow()\ndef wf(url: str) -> str:\n    return url\n",
            "from dbos import DBOS\n\n\nclass Flags:\n    def on(self, name: str) -> bool:\n"
            '        return name == "beta"\n\n\n@DBOS.workflow()\n'
            'def wf() -> bool:\n    return Flags().on("beta")\n',
        ),
    ),
    Rule(
        code=n.MODULE_STATE,
        name="module-state-in-workflow",
        summary="A workflow changes state that outlives it: a `global`, a module-level "
        "container or object, a class attribute.",
        message="a workflow changes `{name}`, which every run in the process shares; a recovered "
        "run sees what other runs left there, not what the first run saw; keep the state in "
        "the workflow (or return it from a @DBOS.step())",
        why="Module-level and class-level state lives as long as the process, not the workflow. "
        "The first run changes it after other workflows have; a recovery, in a fresh process "
        "or on another host, starts from a different value, so it can branch differently.",
        fix="Keep counters and caches in local variables or workflow arguments; if several "
        "workflows must share a value, store it durably (a transaction, an event) and read it "
        "in a step.",
        flagged=(
            "from dbos import DBOS\n\ncounter = 0\n\n\n@DBOS.workflow()\ndef wf() -> int:\n"
            "    global counter\n    counter += 1\n    return counter\n",
            "from dbos import DBOS\n\nSEEN: dict[str, int] = {}\n\n\n@DBOS.workflow()\n"
            "def wf(key: str) -> None:\n    SEEN[key] = 1\n",
            "from dbos import DBOS\n\nLOG = []\n\n\n@DBOS.workflow()\n"
            "def wf(key: str) -> None:\n    LOG.append(key)\n",
        ),
        not_flagged=(
            "from dbos import DBOS\n\nLIMIT = 10\nDEFAULTS = {'a': 1}\n\n\n@DBOS.workflow()\n"
            "def wf(n: int) -> int:\n    seen = {}\n    seen['a'] = DEFAULTS['a']\n"
            "    return min(n, LIMIT) + len(seen)\n",
        ),
    ),
    Rule(
        code=n.SET_ORDER,
        name="set-iteration-in-workflow",
        summary="A workflow depends on set order: it iterates, indexes, joins, unpacks or pops "
        "a set, or a list made from one.",
        message="{name} in a workflow follows set order, which changes between processes "
        "(string hashes are randomised); sort first (sorted(...))",
        why="Set order depends on element hashes, and `str`/`bytes` hashes are randomised per "
        "process. A recovered workflow can then call steps in a different order, which DBOS "
        "reports as nondeterminism. The order survives `list(s)`, `tuple(s)`, `enumerate(s)` "
        "and set operations such as `set(a) - set(b)`.",
        fix="Iterate `sorted(the_set)` (or keep a list / dict, which preserve insertion order). "
        "Order-free uses (`len`, `in`, `sum`, `sorted`, `min`, `max`) are fine.",
        flagged=(
            _wf('for tag in {"a", "b"}:\n    print(tag)'),
            _wf("seen = set(['a', 'b'])\nnames = [s.upper() for s in seen]"),
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(tags: set[str]) -> None:\n"
            "    for tag in tags:\n        print(tag)\n",
            "from dbos import DBOS\n\n\n@DBOS.workflow()\n"
            "def wf(a: list[str], b: list[str]) -> str:\n"
            "    missing = set(a) - set(b)\n    return list(missing)[0]\n",
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(tags: set[str]) -> str:\n"
            '    return ",".join(tags)\n',
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(tags: set[str]) -> str:\n"
            "    return tags.pop()\n",
        ),
        not_flagged=(
            _wf('for tag in sorted({"b", "a"}):\n    print(tag)'),
            _wf("for k in {'a': 1}:\n    print(k)"),
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(tags: set[str]) -> str:\n"
            "    names = list(tags)\n    names.sort()\n"
            '    return ",".join(names) + str(len(tags))\n',
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
)
