"""`dbos schedule ...`: list, get, pause, resume, trigger, backfill, delete."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from .._admin import schedules
from .._admin.connect import AdminError, AdminSession
from .._admin.times import epoch_ms
from .._admin.values import when
from .._db.records import now_ms
from .output import cell, print_json, table
from .progress import Progress


def _cron(view: dict[str, Any]) -> str:
    zone = view["cron_timezone"]
    return f"{view['schedule']} ({zone})" if zone else view["schedule"]


def _last(view: dict[str, Any]) -> str:
    fired = view["last_fired_at"]
    if not fired:
        return "-"
    return when(int(datetime.fromisoformat(fired).timestamp() * 1000))


def list_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    found = schedules.list_schedules(s, args.status, args.workflow, args.prefix)
    if args.json:
        print_json(found)
        return
    table(
        ("SCHEDULE", "WORKFLOW", "CRON", "STATUS", "NEXT TICK", "LAST TICK", "FROM", "NOTE"),
        [
            (
                v["schedule_name"],
                cell(v["workflow_name"]),
                _cron(v),
                v["status"],
                when(v["next_tick_at"]),
                _last(v),
                v["source"],
                v["problem"] or "",
            )
            for v in found
        ],
    )


def get_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    v = schedules.get_schedule(s, args.name)
    if args.json:
        print_json(v)
        return
    fields = [
        ("Schedule", v["schedule_name"]),
        ("Workflow", v["workflow_name"]),
        ("Class", cell(v["workflow_class_name"])),
        ("Cron", _cron(v)),
        ("Status", v["status"]),
        ("Declared in", v["source"]),
        ("Queue", cell(v["queue_name"])),
        ("Context", cell(v["context"])),
        ("Next tick", when(v["next_tick_at"])),
        ("Last tick", _last(v)),
        ("Catches up", "yes" if v["automatic_backfill"] else "no"),
        ("Fires", "yes" if v["fires"] else f"no: {v['problem'] or 'paused'}"),
    ]
    width = max(len(label) for label, _ in fields)
    for label, value in fields:
        print(f"{label.ljust(width)}  {value}")


def pause_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    print(f"{args.name}  {schedules.pause(s, args.name)['status']}")


def resume_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    v = schedules.resume(s, args.name)
    print(f"{args.name}  {v['status']}, next tick {when(v['next_tick_at'])}")


def trigger_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    print(schedules.trigger_now(s, args.name))


def backfill_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    if args.max_ticks is not None and args.max_ticks < 1:
        raise AdminError("--max-ticks must be 1 or more")
    start = epoch_ms(args.start, "--start")
    end = epoch_ms(args.end, "--end") if args.end else now_ms()
    progress = Progress("enqueued ticks")
    try:
        total, added = schedules.backfill(
            s,
            args.name,
            start,
            end,
            **({"max_ticks": args.max_ticks} if args.max_ticks else {}),
            progress=progress.update,
        )
    finally:
        progress.finish()
    window = f"{total} ticks from {when(start)} to {when(end)}"
    print(f"{window}: {added} enqueued, {total - added} had run")


def delete_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    schedules.delete(s, args.name)
    print(f"{args.name}  deleted")


COMMANDS = {
    "list": list_cmd,
    "get": get_cmd,
    "pause": pause_cmd,
    "resume": resume_cmd,
    "trigger": trigger_cmd,
    "backfill": backfill_cmd,
    "delete": delete_cmd,
}
