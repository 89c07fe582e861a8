"""`dbos workflow export`: recorded histories as JSON, for `dbos replay` and `dbos.testing`.

One workflow named without `--with-children` is one JSON object; anything else is a JSON array
written as it is read (one history per line inside it), so a large export is never held in
memory.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from .._admin import export
from .._admin.connect import AdminError, AdminSession
from .workflow_cmd import has_filter, workflow_filter


def _histories(s: AdminSession, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    if args.workflow_ids:
        for workflow_id in args.workflow_ids:
            if args.with_children:
                yield from export.export_with_children(s.sysdb, workflow_id)
            else:
                yield export.export_workflow(s.sysdb, workflow_id)
        return
    # One more than the limit: whether more match is worth saying.
    found = workflow_filter(args, limit=args.limit + 1, sort_desc=False)
    count = 0
    for history in export.export_matching(s.sysdb, found):
        count += 1
        if count > args.limit:
            print(
                f"dbos: more than {args.limit} workflows match; exported the oldest "
                f"{args.limit} (raise --limit for more)",
                file=sys.stderr,
            )
            return
        if args.with_children:
            yield from export.export_with_children(s.sysdb, history["workflow"]["workflow_id"])
        else:
            yield history


def _write_array(histories: Iterable[dict[str, Any]]) -> None:
    out = sys.stdout
    out.write("[")
    separator = "\n"
    seen: set[str] = set()
    for history in histories:
        workflow_id = history["workflow"]["workflow_id"]
        if workflow_id in seen:  # a child that the filters matched too
            continue
        seen.add(workflow_id)
        out.write(separator + json.dumps(history, ensure_ascii=False, separators=(",", ":")))
        separator = ",\n"
    out.write("\n]\n")


def export_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    if args.workflow_ids and has_filter(args):
        raise AdminError("give workflow IDs or filters, not both")
    if not args.workflow_ids and not has_filter(args):
        raise AdminError("give workflow IDs, or filters (--name, --status ...) to export by")
    if args.limit < 1:
        raise AdminError("--limit must be 1 or more")
    if len(args.workflow_ids) == 1 and not args.with_children:
        history = export.export_workflow(s.sysdb, args.workflow_ids[0])
        json.dump(history, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    _write_array(_histories(s, args))
