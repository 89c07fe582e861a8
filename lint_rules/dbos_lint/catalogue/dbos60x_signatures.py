"""DBOS601-603: inputs and outputs that cannot be recorded (DBOS checkpoints every input and
output of a workflow, step or transaction).

Detected by ``checks/dbos60x_signatures.py``: an annotation naming one of
``UNSERIALIZABLE_TYPES`` or a client class (the ``CLIENTS`` of the other families), read
through aliases, quotes and imports; a ``yield`` in the function's own body. The mypy plugin
judges the resolved types against the same tables (``mypy_signatures.py``).
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule

PARAM_TYPE = "DBOS601"
RETURN_TYPE = "DBOS602"
GENERATOR = "DBOS603"

RULES: tuple[Rule, ...] = (
    Rule(
        code=PARAM_TYPE,
        name="unserializable-parameter",
        summary="A workflow, step or transaction parameter is annotated with a type that cannot "
        "be serialized (Callable, Iterator, Lock, socket, IO, module, a client or session such as "
        "`requests.Session` or SQLAlchemy's `Session`), directly or through an alias.",
        message="parameter annotated {name} cannot be serialized, but workflow and step "
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
            "import requests\nfrom dbos import DBOS\n\n\n@DBOS.workflow()\n"
            "def wf(session: requests.Session) -> None:\n    pass\n",
            "from collections.abc import Callable\nfrom dbos import DBOS\n\n"
            "Handler = Callable[[str], None]\n\n\n"
            "@DBOS.step()\ndef st(on_done: Handler) -> None:\n    pass\n",
        ),
        not_flagged=(
            "from typing import Callable\nfrom dbos import DBOS\n\n\n"
            "def helper(callback: Callable[[], None]) -> None:\n    callback()\n\n\n"
            "@DBOS.workflow()\ndef wf(items: list[str], meta: dict[str, int] | None) -> None:\n"
            "    pass\n",
        ),
    ),
    Rule(
        code=RETURN_TYPE,
        name="unserializable-return",
        summary="A workflow, step or transaction's return annotation cannot be serialized.",
        message="return type {name} cannot be serialized, but workflow and step outputs are "
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
        code=GENERATOR,
        name="generator-workflow-or-step",
        summary="A workflow, step or transaction is a generator (`yield` in its body), so what "
        "it returns cannot be recorded.",
        message="`{name}` is a generator: calling it returns a generator object, which cannot "
        "be checkpointed; return a list (or another plain value) instead",
        why="DBOS records what a step or workflow returns. A function with `yield` in its body "
        "returns a generator object, not its values: it cannot be serialized, and recovery "
        "could not replay values that were produced lazily after the checkpoint.",
        fix="Collect the values and return them (`return list(...)`), or page through them with "
        "one step per page.",
        flagged=(
            "from dbos import DBOS\n\n\n@DBOS.step()\ndef rows():\n    yield 1\n    yield 2\n",
            "from dbos import DBOS\n\n\n@DBOS.step()\nasync def rows():\n    yield b''\n",
        ),
        not_flagged=(
            "from dbos import DBOS\n\n\n@DBOS.step()\ndef rows() -> list[int]:\n"
            "    def gen():\n        yield 1\n\n    return list(gen())\n",
        ),
    ),
)

#: Non-serializable annotation types for workflow/step signatures.
UNSERIALIZABLE_TYPES: frozenset[str] = frozenset(
    [
        *(f"{m}.{n}" for m in ("typing", "collections.abc") for n in ("Callable",)),
        *(
            f"{m}.{n}"
            for m in ("typing", "collections.abc")
            for n in (
                "Iterator",
                "Generator",
                "AsyncIterator",
                "AsyncGenerator",
                "Awaitable",
                "Coroutine",
            )
        ),
        "typing.IO",
        "typing.TextIO",
        "typing.BinaryIO",
        "io.IOBase",
        "io.TextIOWrapper",
        "io.BufferedReader",
        "io.BufferedWriter",
        "io.BytesIO",
        "io.StringIO",
        "threading.Lock",
        "threading.RLock",
        "threading.Thread",
        "threading.Event",
        "threading.Condition",
        "threading.Semaphore",
        "multiprocessing.Process",
        "multiprocessing.Queue",
        "asyncio.Task",
        "asyncio.Future",
        "asyncio.Lock",
        "asyncio.Event",
        "asyncio.Queue",
        "concurrent.futures.Future",
        "socket.socket",
        "types.ModuleType",
        "types.FunctionType",
        "types.LambdaType",
        "types.GeneratorType",
        "types.CoroutineType",
        "types.FrameType",
        "types.TracebackType",
        "sqlite3.Connection",
        "sqlite3.Cursor",
        "sqlalchemy.orm.Session",
        "sqlalchemy.engine.Connection",
        "sqlalchemy.engine.Engine",
        "sqlalchemy.Connection",
        "sqlalchemy.Engine",
        "requests.Response",
        "httpx.Response",
        "aiohttp.ClientResponse",
        "http.client.HTTPResponse",
    ]
)

FAMILY = Family(
    rules=RULES,
)
