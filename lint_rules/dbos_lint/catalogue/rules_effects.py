"""Rules about effects a replay would repeat or reorder: files, network, databases, processes,
threads and completion order."""

from __future__ import annotations

from dbos_lint.catalogue import names as n
from dbos_lint.catalogue.rule import Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

RULES: tuple[Rule, ...] = (
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
            "from pathlib import Path\nfrom dbos import DBOS\n\n"
            "ROOT = Path(__file__).parent\n\n\n"
            '@DBOS.workflow()\ndef wf() -> str:\n    return (ROOT / "rates.json").read_text()\n',
        ),
        not_flagged=(
            _wf(
                'p = os.path.join("a", "b")\nq = Path("a") / "b"',
                head="import os\nfrom pathlib import Path\n",
            ),
            "from pathlib import Path\nfrom dbos import DBOS\n\n"
            "ROOT = Path(__file__).parent\n\n\n"
            "@DBOS.workflow()\ndef wf() -> str:\n"
            '    return (ROOT / "rates.json").with_suffix(".toml").name\n',
        ),
    ),
    Rule(
        code=n.NETWORK,
        name="network-in-workflow",
        summary="A workflow does network I/O (`requests`, `httpx`, `aiohttp`, `socket`, "
        "`asyncio.open_connection`...), also through a client kept on `self` or at module "
        "level.",
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
            "import requests\nfrom dbos import DBOS, DBOSConfiguredInstance\n\n\n"
            "@DBOS.dbos_class()\n"
            "class Api(DBOSConfiguredInstance):\n    def __init__(self) -> None:\n"
            "        self.http = requests.Session()\n"
            '        super().__init__(config_name="api")\n\n'
            "    @DBOS.workflow()\n    def run(self, url: str) -> int:\n"
            "        return self.http.get(url).status_code\n",
            _wf(
                'r, w = await asyncio.open_connection("example.com", 443)',
                head="import asyncio\n",
                is_async=True,
            ),
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
            "import requests\nfrom dbos import DBOS, DBOSConfiguredInstance\n\n\n"
            "@DBOS.dbos_class()\n"
            "class Api(DBOSConfiguredInstance):\n    def __init__(self) -> None:\n"
            "        self.http = requests.Session()\n"
            '        super().__init__(config_name="api")\n\n'
            "    @DBOS.step()\n    def get(self, url: str) -> int:\n"
            "        return self.http.get(url).status_code\n\n"
            "    @DBOS.workflow()\n    def run(self, url: str) -> int:\n"
            "        return self.get(url)\n",
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
        summary="A workflow runs another process (`subprocess`, `os.system`, "
        "`asyncio.create_subprocess_exec`, signals).",
        message="`{name}` starts or signals a process from a workflow; its effect is repeated "
        "on replay, so run it in a @DBOS.step()",
        why="A process's output and side effects are not recorded; recovery runs it again.",
        fix="Run the command in a `@DBOS.step()` and return what the workflow needs.",
        flagged=(
            _wf('subprocess.run(["ls"])', head="import subprocess\n"),
            _wf('os.system("ls")', head="import os\n"),
            _wf(
                'proc = await asyncio.create_subprocess_exec("ls")',
                head="import asyncio\n",
                is_async=True,
            ),
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
        code=n.COMPLETION_ORDER,
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
