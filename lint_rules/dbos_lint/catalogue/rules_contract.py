"""Rules about the contract with DBOS itself: parseable files, recordable signatures, the API
used where it works, and the project's own forbidden names."""

from __future__ import annotations

from dbos_lint.catalogue import names as n
from dbos_lint.catalogue.rule import Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

RULES: tuple[Rule, ...] = (
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
        code=n.PARAM_TYPE,
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
        code=n.RETURN_TYPE,
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
        code=n.GENERATOR,
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
