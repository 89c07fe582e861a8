"""Entry point of the `dbos` console script: parse, open the database, run one verb, and turn
every failure into one line on stderr and a non-zero exit (1 for errors, 2 for usage)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .._admin import config_file
from .._admin.config_file import ProjectConfig
from .._admin.connect import AdminError, first_line, resolve_url, session
from . import admin_cmd, export_cmd, project_cmd, queue_cmd, schedule_cmd, workflow_cmd
from .parser import build_parser

DEBUG_ENV = "DBOS_CLI_DEBUG"  # set to see a traceback of an unexpected failure


def _project(verb: str) -> ProjectConfig | None:
    """The working directory's `dbos-config.yaml`, if any (its unset variables are worth a
    warning only where its commands run)."""
    try:
        return config_file.load(warn=verb in ("migrate", "start"))
    except config_file.ConfigFileError as exc:
        raise AdminError(str(exc)) from None


def _run(args: argparse.Namespace) -> None:
    project = _project(args.verb)
    if args.verb == "start":
        project_cmd.start_cmd(project)
        return
    url = resolve_url(args.db_url, args.app_name, project=project)
    if args.verb == "migrate":
        # The application database too when the file names one, as upstream's migrate does.
        app_url = project.database_url if project is not None and not args.db_url else None
        admin_cmd.migrate_cmd(url, args.schema, app_url, args.force)
        project_cmd.migrate_commands(project)
        return
    if args.verb == "reset":
        admin_cmd.reset_cmd(url, args.schema, args.yes)
        return
    if args.verb == "dashboard":
        from .dashboard_cmd import dashboard_cmd

        dashboard_cmd(url, args)
        return
    with session(url, args.schema) as s:
        if args.verb == "queue":
            queue_cmd.COMMANDS[args.action](s, args)
        elif args.verb == "schedule":
            schedule_cmd.COMMANDS[args.action](s, args)
        elif args.verb == "gc":
            admin_cmd.gc_cmd(s, args)
        elif args.action == "export":
            export_cmd.export_cmd(s, args)
        else:
            workflow_cmd.COMMANDS[args.action](s, args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb == "replay":  # no system database: its own exit codes (0, 1, 2)
        from .replay_cmd import replay_cmd

        return replay_cmd(args)
    if args.verb == "wf":
        args.verb = "workflow"
    # The runtime's warnings (a retried connection...) are for applications; here the
    # outcome is the message.
    logging.getLogger("dbos").setLevel(logging.ERROR)
    try:
        _run(args)
    except project_cmd.CommandFailed as exc:
        return project_cmd.exit_code(exc)
    except AdminError as exc:
        print(f"dbos: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dbos: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"dbos: {type(exc).__name__}: {first_line(exc)}", file=sys.stderr)
        return 1
    return 0
