"""DBOS701-704: the DBOS API used where it cannot work (the transaction's session outside a
transaction, ``recv`` or a child workflow from inside a step), and a workflow that swallows the
runtime's own control flow (a bare ``except:`` or ``except BaseException`` that does not
re-raise).

Detected by ``checks/reads.py`` (DBOS701: a read resolving to one of ``SQL_SESSION_NAMES``
outside a transaction) and ``checks/dbos70x_api_misuse.py`` (DBOS702-703, in steps and
transactions: a call resolving to one of ``RECV_CALLS`` or ``START_WORKFLOW_CALLS``, one of
``ENQUEUE_METHODS`` on a ``QUEUE_CLASSES`` object, or a call of a project workflow), and
DBOS704 by the same module, in workflows and the helpers they call: an ``except`` clause with no
type, or a type (alone or in a tuple) resolving to one of ``SWALLOWING_TYPES``, whose handler
holds no bare ``raise`` and no ``raise`` of the name it bound.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

SQL_SESSION = "DBOS701"
RECV_OUTSIDE = "DBOS702"
WORKFLOW_IN_STEP = "DBOS703"
SWALLOWED_UNWIND = "DBOS704"

RULES: tuple[Rule, ...] = (
    Rule(
        code=SQL_SESSION,
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
        code=RECV_OUTSIDE,
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
        code=WORKFLOW_IN_STEP,
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
        code=SWALLOWED_UNWIND,
        name="base-exception-swallowed",
        summary="A workflow catches `BaseException` (or everything, with a bare `except:`) and "
        "does not re-raise it.",
        message="`{name}` in a workflow catches the runtime's own control flow (cancellation, "
        "a graceful shutdown, a waiting workflow giving its thread back) and does not re-raise "
        "it; re-raise it with a bare `raise`, or catch `Exception`",
        why="DBOS stops a workflow by raising an exception derived from `BaseException` inside "
        "it: when it is cancelled or times out, when its process shuts down gracefully, when "
        "the runtime unwinds a waiting workflow to free its thread. A handler that swallows "
        "it lets the body run on: past a cancellation, into steps that the next process runs "
        "again, or to a result recorded from a half-run workflow.",
        fix="Catch `Exception` for errors; if a `BaseException` handler must clean up, end it "
        "with a bare `raise` (or a `raise` of the name it bound), or use `finally:`.",
        flagged=(
            _wf("try:\n    DBOS.sleep(60)\nexcept:\n    pass"),
            _wf("try:\n    DBOS.sleep(60)\nexcept BaseException as exc:\n    print(exc)"),
            _wf(
                "try:\n    DBOS.sleep(60)\nexcept (ValueError, BaseException) as exc:\n"
                '    raise RuntimeError("failed") from exc'
            ),
        ),
        not_flagged=(
            _wf("try:\n    DBOS.sleep(60)\nexcept BaseException:\n    print('cleanup')\n    raise"),
            _wf(
                "try:\n    DBOS.sleep(60)\nexcept BaseException as exc:\n    print(exc)\n"
                "    raise exc"
            ),
            _wf("try:\n    DBOS.sleep(60)\nexcept Exception as exc:\n    print(exc)"),
            "from dbos import DBOS\n\n\n@DBOS.step()\ndef st() -> None:\n    try:\n"
            "        print('work')\n    except BaseException:\n        pass\n",
        ),
    ),
)

SQL_SESSION_NAMES: frozenset[str] = frozenset(["dbos.DBOS.sql_session"])
RECV_CALLS: frozenset[str] = frozenset(["dbos.DBOS.recv", "dbos.DBOS.recv_async"])
START_WORKFLOW_CALLS: frozenset[str] = frozenset(
    ["dbos.DBOS.start_workflow", "dbos.DBOS.start_workflow_async"]
)
QUEUE_CLASSES: frozenset[str] = frozenset(["dbos.Queue"])
ENQUEUE_METHODS: frozenset[str] = frozenset(["enqueue", "enqueue_async"])
#: Exception types whose ``except`` clause also catches DBOS's control-flow exceptions (they
#: derive from ``BaseException`` directly).
SWALLOWING_TYPES: frozenset[str] = frozenset(["builtins.BaseException"])

FAMILY = Family(
    rules=RULES,
)
