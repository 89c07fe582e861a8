"""DBOS204: other processes, whose effects a replay repeats.

Detected by ``checks/calls.py`` from the tables below: a call resolving to one of ``CALLS`` or
into a module of ``MODULES`` (``SAFE`` names excepted); any method of a ``CLIENTS`` object; a
method of ``METHODS`` on the running loop. The mypy plugin reads the same tables.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import EVENT_LOOP, Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

PROCESS = "DBOS204"

_OS_PROCESS = (
    "system popen fork forkpty kill killpg abort execl execle execlp execlpe execv execve "
    "execvp execvpe spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe "
    "posix_spawn posix_spawnp wait waitpid"
).split()
_ASYNCIO_PROCESS = ("create_subprocess_exec", "create_subprocess_shell")

RULES: tuple[Rule, ...] = (
    Rule(
        code=PROCESS,
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
)

FAMILY = Family(
    rules=RULES,
    calls={
        **{f"os.{f}": PROCESS for f in _OS_PROCESS},
        **{f"asyncio.{f}": PROCESS for f in _ASYNCIO_PROCESS},
    },
    modules={m: PROCESS for m in ("subprocess", "signal", "pty")},
    clients={"subprocess.Popen": PROCESS, "asyncio.subprocess.Process": PROCESS},
    methods={f"{EVENT_LOOP}.{m}": PROCESS for m in ("subprocess_exec", "subprocess_shell")},
    safe=frozenset({"subprocess.list2cmdline"}),
    mypy_aliases={f"asyncio.subprocess.{f}": f"asyncio.{f}" for f in _ASYNCIO_PROCESS},
)
