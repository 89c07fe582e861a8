"""`dbos start` and the migration commands of `dbos migrate`: the shell commands a project's
`dbos-config.yaml` lists (`runtimeConfig.start`, `database.migrate`), run in order in the
working directory, the first failure stopping the rest with its exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType

from .._admin.config_file import CONFIG_FILE, ProjectConfig
from .._admin.connect import AdminError


class CommandFailed(Exception):
    """A listed command exited non-zero: `dbos` exits with the same code."""

    def __init__(self, command: str, code: int) -> None:
        super().__init__(f"{command!r} exited with code {code}")
        self.command = command
        self.code = code


def run_commands(project: ProjectConfig, commands: list[str], what: str) -> None:
    """Each command through the shell, waited for; SIGINT and SIGTERM sent to `dbos` go to
    the running command's whole process group (a server it started stops with it)."""
    env = project.command_environment()
    for command in commands:
        print(f"dbos: {what}: {command}", flush=True)
        code = _run(command, env)
        if code != 0:
            raise CommandFailed(command, code)


def _run(command: str, env: dict[str, str]) -> int:
    process = subprocess.Popen(command, shell=True, env=env, start_new_session=True)

    def forward(signum: int, _frame: FrameType | None) -> None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def start_cmd(project: ProjectConfig | None) -> None:
    if project is None:
        raise AdminError(f"no {CONFIG_FILE} in {os.getcwd()}: `dbos start` runs its start commands")
    if not project.start:
        raise AdminError(f"{project.path} lists no runtimeConfig.start commands")
    run_commands(project, project.start, "start")


def migrate_commands(project: ProjectConfig | None) -> None:
    """The project's own migrations, after DBOS's: `database.migrate`, in order."""
    if project is not None and project.migrate:
        run_commands(project, project.migrate, "migrate")
        print(f"dbos: ran {len(project.migrate)} migration command(s) from {CONFIG_FILE}")


def exit_code(exc: CommandFailed) -> int:
    print(f"dbos: {exc}", file=sys.stderr)
    return exc.code if 0 < exc.code < 256 else 1
