"""Runs of one write statement in a group commit, sent as one statement (PostgreSQL).

A group commit (`group_commit.py`) flushes the writes of many workflows in one transaction.
Under a queue drain most of them are the same statement on different rows: each workflow's
outcome (`COMPLETE_WORKFLOW`). Sent one by one (pipelined) each costs the server a statement's
planning and executor start-up and this process psycopg's work per statement; a run of them is
the same work as one `UPDATE ... FROM unnest(...)` whose parameters are the run's values as
arrays, `RETURNING` the rows it changed.

Only consecutive statements merge, and only while each touches a row no other statement of
the run touches (its key): the merged statement then does exactly what the run did in order,
each row changed or left alone by its own conditions, and a statement's row count is whether
its key came back. Any other statement (or a repeated key) ends the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Statement = tuple[str, Mapping[str, Any]]


@dataclass(frozen=True)
class BulkForm:
    """The set-based form of one single-row statement: `sql` takes one array parameter per
    name in `columns` (the single statement's parameters) and returns the `key` of each row
    it changed."""

    sql: str
    key: str
    columns: tuple[str, ...]

    def params(self, run: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
        return {c: [p[c] for p in run] for c in self.columns}


@dataclass(frozen=True)
class Planned:
    """One statement to send: a single one (`keys` None) or a merged run (its keys, in order)."""

    sql: str
    params: Mapping[str, Any]
    keys: tuple[Any, ...] | None = None


# Fewer than this many in a row are sent as they are: an array statement would not pay.
MIN_RUN = 2


def plan(statements: Sequence[Statement], forms: Mapping[str, BulkForm]) -> list[Planned]:
    """The statements to send for `statements`, runs merged where a bulk form exists."""
    planned: list[Planned] = []
    run: list[Mapping[str, Any]] = []
    run_sql = ""
    seen: set[Any] = set()

    def close_run() -> None:
        if len(run) >= MIN_RUN:
            form = forms[run_sql]
            keys = tuple(p[form.key] for p in run)
            planned.append(Planned(form.sql, form.params(run), keys))
        else:
            planned.extend(Planned(run_sql, p) for p in run)
        run.clear()
        seen.clear()

    for sql, params in statements:
        form = forms.get(sql)
        if form is None:
            if run:
                close_run()
            planned.append(Planned(sql, params))
            continue
        key = params[form.key]
        if run and (sql != run_sql or key in seen):
            close_run()
        run_sql = sql
        run.append(params)
        seen.add(key)
    if run:
        close_run()
    return planned


def row_counts(planned: Sequence[Planned], results: Sequence[Any]) -> list[int]:
    """Each original statement's row count: a single statement's own (`results[i]` an int),
    and for a merged run 1 or 0 per statement, whether its key came back (`results[i]` the
    returned keys)."""
    counts: list[int] = []
    for item, result in zip(planned, results, strict=True):
        if item.keys is None:
            counts.append(int(result))
        else:
            changed = set(result)
            counts.extend(1 if key in changed else 0 for key in item.keys)
    return counts


def postgres_forms(sql: Any) -> dict[str, BulkForm]:
    """The bulk forms of PostgreSQL's statements (`sql`: the rendered `Statements`)."""
    return {
        sql.COMPLETE_WORKFLOW: BulkForm(
            sql.COMPLETE_WORKFLOWS,
            "workflow_uuid",
            ("workflow_uuid", "owner_xid", "status", "output", "error", "now"),
        ),
    }
