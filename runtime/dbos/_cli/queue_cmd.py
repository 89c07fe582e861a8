"""`dbos queue list | get | register | delete`: the queues of a system database, declared in
workers' code or registered at run time, with their depths and partitions; registering and
deleting them as `DBOSClient` does (the workers pick a change up within a second)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .._admin import queues
from .._admin.connect import AdminSession
from .output import cell, print_json, table


def _rate(rate: dict[str, Any] | None) -> str:
    return "-" if rate is None else f"{rate['limit']}/{rate['period_sec']}s"


def list_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    found = queues.queues(s)
    if args.json:
        print_json(found)
        return
    table(
        (
            "QUEUE",
            "KIND",
            "ENQUEUED",
            "RUNNING",
            "DELAYED",
            "PARTITIONS",
            "CONCURRENCY",
            "PER WORKER",
            "RATE LIMIT",
        ),
        [
            (
                q["name"],
                q["kind"],
                str(q["enqueued"]),
                str(q["running"]),
                str(q["delayed"]),
                str(q["partitions"]) if q["partition_queue"] else "-",
                cell(q["concurrency"]),
                cell(q["worker_concurrency"]),
                _rate(q["rate_limit"]),
            )
            for q in found
        ],
    )


def get_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    q = queues.queue(s, args.name, args.partitions)
    if args.json:
        print_json(q)
        return
    facts = [
        ("queue", q["name"]),
        ("kind", q["kind"]),
        ("limits", q["limits"]),
        ("polling", cell(q["polling_interval_sec"])),
        ("enqueued", str(q["enqueued"])),
        ("running", str(q["running"])),
        ("delayed", str(q["delayed"])),
    ]
    if q["partition_queue"]:
        facts.append(("partitions", f"{q['partitions']} with work"))
    width = max(len(label) for label, _ in facts)
    for label, value in facts:
        print(f"{label.ljust(width)}  {value}")
    if q["partition_queue"] and q["largest_partitions"]:
        print()
        table(
            ("PARTITION", "ENQUEUED", "RUNNING", "DELAYED"),
            [
                (cell(p["key"]), str(p["enqueued"]), str(p["running"]), str(p["delayed"]))
                for p in q["largest_partitions"]
            ],
        )


def _limiter(limit: int | None, period: float | None) -> dict[str, Any] | None:
    if limit is None and period is None:
        return None
    return {"limit": limit, "period": period}  # both or neither: checked by the registration


def register_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    settings: dict[str, Any] = {
        "global_concurrency": args.global_concurrency,
        "worker_concurrency": args.worker_concurrency,
        "limiter": _limiter(args.limit, args.period),
        "partition_concurrency": args.partition_concurrency,
        "partition_worker_concurrency": args.partition_worker_concurrency,
        "partition_limiter": _limiter(args.partition_limit, args.partition_period),
        "polling_interval_sec": args.polling_interval,
    }
    new = queues.register(s, args.name, settings, update=not args.keep_existing)
    shown = queues.queue(s, args.name, 0)
    verb = "registered" if new else ("kept" if args.keep_existing else "updated")
    print(f"{verb} queue {args.name} ({shown['limits']})")


def delete_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    queues.delete(s, args.name, args.force)
    print(f"deleted queue {args.name}")


COMMANDS: dict[str, Callable[[AdminSession, argparse.Namespace], None]] = {
    "list": list_cmd,
    "get": get_cmd,
    "register": register_cmd,
    "delete": delete_cmd,
}
