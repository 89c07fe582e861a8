"""`dbos workflow ...`: list, get, steps, cancel, resume, fork."""

from __future__ import annotations

import argparse
from typing import Any

from .._admin import actions, views
from .._admin.connect import AdminError, AdminSession
from .._admin.times import epoch_ms
from .._admin.values import duration, when
from .._db.listing import WorkflowFilter
from .output import cell, error_text, print_json, table
from .progress import Progress


def workflow_filter(args: argparse.Namespace, **extra: Any) -> WorkflowFilter:
    return WorkflowFilter(
        status=views.check_statuses(args.status),
        name=args.name,
        queue_name=args.queue,
        executor_id=args.executor,
        app_version=args.app_version,
        start_time_ms=epoch_ms(args.start_time, "--start-time") if args.start_time else None,
        end_time_ms=epoch_ms(args.end_time, "--end-time") if args.end_time else None,
        **extra,
    )


def has_filter(args: argparse.Namespace) -> bool:
    return any(
        getattr(args, key)
        for key in ("status", "name", "queue", "executor", "app_version", "start_time", "end_time")
    )


def list_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    if args.limit < 1 or (args.offset is not None and args.offset < 0):
        raise AdminError("--limit must be 1 or more and --offset 0 or more")
    found = views.list_workflows(
        s,
        workflow_filter(args, limit=args.limit, offset=args.offset, sort_desc=not args.sort_asc),
        values=args.json,
    )
    if args.json:
        print_json(found)
        return
    table(
        ("WORKFLOW ID", "STATUS", "NAME", "QUEUE", "CREATED", "DURATION", "EXECUTOR"),
        [
            (
                w["workflow_id"],
                w["status"],
                cell(w["name"]),
                cell(w["queue_name"]),
                when(w["created_at"]),
                duration(w["duration_ms"]),
                cell(w["executor_id"]),
            )
            for w in found
        ],
    )


def get_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    w = views.get_workflow(s, args.workflow_id)
    if args.json:
        print_json(w)
        return
    fields = [
        ("Workflow ID", w["workflow_id"]),
        ("Status", w["status"]),
        ("Name", w["name"]),
        ("Class", cell(w["class_name"])),
        ("Queue", cell(w["queue_name"])),
        ("Executor", cell(w["executor_id"])),
        ("App version", cell(w["app_version"])),
        ("Created", when(w["created_at"])),
        ("Completed", when(w["completed_at"])),
        ("Duration", duration(w["duration_ms"])),
        ("Attempts", str(w["recovery_attempts"])),
        ("Parent", cell(w["parent_workflow_id"])),
        ("Forked from", cell(w["forked_from"])),
        ("Input", cell(w["input"])),
        ("Output", cell(w["output"])),
        ("Error", error_text(w["error"])),
    ]
    width = max(len(label) for label, _ in fields)
    for label, value in fields:
        print(f"{label.ljust(width)}  {value}")


def steps_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    steps = views.list_steps(s, args.workflow_id)
    if args.json:
        print_json(steps)
        return
    table(
        ("STEP", "NAME", "STARTED", "DURATION", "ATTEMPTS", "OUTPUT / ERROR", "CHILD"),
        [
            (
                str(st["step_id"]),
                cell(st["name"]),
                when(st["started_at"]),
                duration(st["duration_ms"]),
                str(st["attempts"]),
                error_text(st["error"]) if st["error"] else cell(st["output"]),
                cell(st["child_workflow_id"]),
            )
            for st in steps
        ],
    )


def cancel_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    if args.workflow_ids and has_filter(args):
        raise AdminError("give workflow IDs or filters, not both")
    if args.workflow_ids:
        for workflow_id in args.workflow_ids:
            print(f"{workflow_id}  {actions.cancel(s, workflow_id, cascade=args.cascade)}")
        return
    if not has_filter(args):
        raise AdminError("give workflow IDs, or filters (--queue, --status ...) to cancel by")
    targets = actions.matching_live(s, workflow_filter(args))
    progress = Progress("cancelling", total=len(targets))
    try:
        done = actions.cancel_many(s, targets, progress.update)
    finally:
        progress.finish()
    print(f"cancelled {done} of {len(targets)} live workflows matching")


def resume_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    status = actions.resume(s, args.workflow_id)
    print(f"{args.workflow_id}  {status}")


def fork_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    new_id = actions.fork(
        s,
        args.workflow_id,
        args.step,
        new_id=args.forked_workflow_id,
        app_version=args.application_version,
    )
    print(new_id)


COMMANDS = {
    "list": list_cmd,
    "get": get_cmd,
    "steps": steps_cmd,
    "cancel": cancel_cmd,
    "resume": resume_cmd,
    "fork": fork_cmd,
}
