"""The `dbos` command's verbs and options (upstream's names where it has them). Every verb
takes the database options, so they can go after the verb as people type them."""

from __future__ import annotations

import argparse

from .._admin.views import STATUSES


def _database_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db-url",
        "-D",
        help="system database URL (else $DBOS_SYSTEM_DATABASE_URL, else dbos-config.yaml's, "
        "else the app's SQLite file in this directory)",
    )
    p.add_argument(
        "--app-name", help="the application's name, for its default SQLite file <name>.sqlite"
    )
    p.add_argument("--schema", default="dbos", help="system schema on PostgreSQL (dbos)")


def _json_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _many(p: argparse.ArgumentParser, *flags: str, help_text: str) -> None:
    p.add_argument(*flags, action="append", default=None, help=help_text + " (repeatable)")


def _filters(p: argparse.ArgumentParser) -> None:
    _many(p, "--status", "-S", help_text=f"one of {', '.join(STATUSES)}")
    _many(p, "--name", "-n", help_text="workflow function name")
    _many(p, "--queue", "-q", help_text="queue name")
    _many(p, "--executor", "-e", help_text="executor ID")
    _many(p, "--app-version", "-v", help_text="application version")
    p.add_argument("--start-time", "-s", help="created at or after (ISO time, or 2h for 2h ago)")
    p.add_argument("--end-time", "-E", help="created at or before (ISO time, or 2h for 2h ago)")


def _queue_settings(p: argparse.ArgumentParser) -> None:
    """A queue's limits, as `DBOS.register_queue` names them."""
    p.add_argument("--global-concurrency", type=int, help="running at once, all workers")
    p.add_argument("--worker-concurrency", type=int, help="running at once in one worker")
    p.add_argument("--limit", type=int, help="rate limit: starts per --period seconds")
    p.add_argument("--period", type=float, help="rate limit's window, seconds")
    p.add_argument(
        "--partition-concurrency", type=int, help="running at once per partition, all workers"
    )
    p.add_argument(
        "--partition-worker-concurrency", type=int, help="running at once per partition, per worker"
    )
    p.add_argument(
        "--partition-limit", type=int, help="per partition: starts per --partition-period"
    )
    p.add_argument("--partition-period", type=float, help="the partition rate limit's window")
    p.add_argument(
        "--polling-interval", type=float, default=1.0, help="seconds between looks (1.0)"
    )


def _leaf(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_text, description=help_text)
    _database_options(p)
    return p


def _export_parser(wf: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = _leaf(wf, "export", "recorded histories as JSON, for `dbos replay` (values as stored)")
    p.add_argument("workflow_ids", nargs="*", metavar="ID")
    p.add_argument("--with-children", action="store_true", help="also every workflow they started")
    _filters(p)
    p.add_argument(
        "--limit", "-l", type=int, default=1000, help="by filters: at most this many (1000)"
    )


def _replay_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = (
        "run the current code against exported histories, running no step and touching no "
        "database: exit 0 when all replay, 1 on a divergence, 2 on bad input"
    )
    p = verbs.add_parser("replay", help=text, description=text)
    p.add_argument("files", nargs="+", metavar="FILE", help="histories from `dbos workflow export`")
    p.add_argument(
        "--app", "-a", required=True, help="the module (or .py file) that defines the workflows"
    )
    p.add_argument("--keep-going", "-k", action="store_true", help="report every diverging history")
    p.add_argument("--quiet", "-q", action="store_true", help="print only divergences")


def _schedule_verbs(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schedule = verbs.add_parser("schedule", help="cron schedules: list, pause, trigger, backfill")
    ss = schedule.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _leaf(ss, "list", "every schedule: cron, status, next and last tick, and whether it fires")
    _many(p, "--status", "-S", help_text="ACTIVE or PAUSED")
    _many(p, "--workflow", "-n", help_text="workflow name")
    _many(p, "--prefix", "-p", help_text="schedule name prefix")
    _json_option(p)
    p = _leaf(ss, "get", "one schedule")
    p.add_argument("name")
    _json_option(p)
    for name, text in (
        ("pause", "stop firing a schedule, in every process, until resumed"),
        ("resume", "fire a paused schedule again, from its next tick"),
        ("trigger", "enqueue one run of a schedule now (prints its workflow ID)"),
        ("delete", "delete a schedule (ticks already enqueued still run)"),
    ):
        _leaf(ss, name, text).add_argument("name")
    p = _leaf(ss, "backfill", "enqueue every tick of a past window that has not run")
    p.add_argument("name")
    p.add_argument("--start", "-s", required=True, help="window start (ISO time, or 2h for 2h ago)")
    p.add_argument("--end", "-E", help="window end (ISO time, or a duration ago; default now)")
    p.add_argument("--max-ticks", type=int, help="refuse a window of more ticks (10000)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dbos",
        description="Inspect and control the workflows of a DBOS system database, with or "
        "without the application running.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True)

    workflow = verbs.add_parser(
        "workflow", aliases=["wf"], help="list, inspect and control workflows"
    )
    wf = workflow.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _leaf(wf, "list", "list workflows, newest first")
    _filters(p)
    p.add_argument("--limit", "-l", type=int, default=50, help="at most this many (50)")
    p.add_argument("--offset", "-o", type=int, default=None, help="skip this many first")
    p.add_argument("--sort-asc", action="store_true", help="oldest first")
    _json_option(p)
    for name, text in (
        ("get", "one workflow's status, input and result"),
        ("steps", "one workflow's steps"),
    ):
        p = _leaf(wf, name, text)
        p.add_argument("workflow_id")
        _json_option(p)
    p = _leaf(wf, "cancel", "cancel workflows: by ID, or every live one the filters match")
    p.add_argument("workflow_ids", nargs="*", metavar="ID")
    p.add_argument("--cascade", action="store_true", help="cancel their child workflows too")
    _filters(p)
    p = _leaf(wf, "resume", "put a cancelled or stuck workflow back on its queue")
    p.add_argument("workflow_id")
    p = _leaf(wf, "fork", "start a new workflow from a step of this one")
    p.add_argument("workflow_id")
    p.add_argument("--step", "-s", type=int, default=1, help="first step to run again (1)")
    p.add_argument("--forked-workflow-id", "-f", help="ID of the new workflow")
    p.add_argument("--application-version", "-v", help="application version of the new one")

    _export_parser(wf)

    queue = verbs.add_parser("queue", help="list, inspect, register and delete queues")
    qs = queue.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _leaf(qs, "list", "queues with their limits and depths")
    _json_option(p)
    p = _leaf(qs, "get", "one queue: its limits, depth and largest partitions")
    p.add_argument("name")
    p.add_argument("--partitions", type=int, default=10, help="largest partitions to show (10)")
    _json_option(p)
    p = _leaf(qs, "register", "register a queue (or change a registered one's limits)")
    p.add_argument("name")
    _queue_settings(p)
    p.add_argument(
        "--keep-existing",
        action="store_true",
        help="leave a queue already registered under this name as it is",
    )
    p = _leaf(qs, "delete", "delete a registered queue")
    p.add_argument("name")
    p.add_argument(
        "--force", action="store_true", help="cancel the work it holds (refused otherwise)"
    )

    _schedule_verbs(verbs)

    p = _leaf(
        verbs,
        "migrate",
        "create the system database or bring its schema up to date (and the application "
        "database, then the migration commands, of a dbos-config.yaml here)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="convert an upstream DBOS database even if upstream processes seem to use it",
    )
    verbs.add_parser(
        "start",
        help="run the start commands of dbos-config.yaml here (runtimeConfig.start)",
        description="Run the start commands of dbos-config.yaml in this directory, in order.",
    )
    p = _leaf(verbs, "reset", "drop the system database: every workflow, step and message")
    p.add_argument("--yes", "-y", action="store_true", help="really do it")
    p = _leaf(verbs, "gc", "delete finished workflows older than a cutoff, in small batches")
    p.add_argument("--older-than", help="finished before this long ago (30d, 12h, 90m)")
    p.add_argument("--keep", type=int, help="also keep no more than the newest N workflows")
    p.add_argument("--batch-size", type=int, default=500, help="workflows per transaction (500)")
    p.add_argument(
        "--app-db-url",
        help="the application database, whose transaction outputs of deleted workflows go too",
    )

    _replay_parser(verbs)

    p = _leaf(verbs, "dashboard", "serve a local web page of workflows, queues and workers")
    p.add_argument("--port", "-p", type=int, default=3001)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    p.add_argument("--read-only", action="store_true", help="no cancel, resume or fork")
    p.add_argument("--token", help="required on every request (needed to bind beyond loopback)")
    return parser
