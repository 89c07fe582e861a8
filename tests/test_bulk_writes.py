"""A group commit's run of one statement sent as one statement (`_db/bulk_writes.py`) does
exactly what the run did statement by statement: the same rows changed, the same row count
for each write, in the same order around other statements."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from dbos._db.bulk_writes import BulkForm, Planned, plan, row_counts
from dbos._db.connections import Connections
from dbos._db.records import StepWrite, now_ms
from dbos._db.records import WorkflowRow as W
from dbos._db.workflow_store import WorkflowStore

FORMS = {"one": BulkForm("many", "id", ("id", "v"))}


def _p(key: str, v: int = 0) -> dict[str, Any]:
    return {"id": key, "v": v}


def test_consecutive_statements_with_a_bulk_form_merge_into_one() -> None:
    planned = plan([("one", _p("a", 1)), ("one", _p("b", 2)), ("one", _p("c", 3))], FORMS)
    assert planned == [Planned("many", {"id": ["a", "b", "c"], "v": [1, 2, 3]}, ("a", "b", "c"))]


def test_other_statements_and_repeated_keys_end_a_run_so_order_is_kept() -> None:
    statements = [
        ("one", _p("a")),
        ("one", _p("b")),
        ("other", {"n": 1}),
        ("one", _p("c")),  # alone: sent as it is
        ("other", {"n": 2}),
        ("one", _p("d")),
        ("one", _p("d")),  # the same row again: the second must see what the first did
        ("one", _p("e")),
    ]
    planned = plan(statements, FORMS)
    assert [(p.sql, p.keys) for p in planned] == [
        ("many", ("a", "b")),
        ("other", None),
        ("one", None),
        ("other", None),
        ("one", None),
        ("many", ("d", "e")),
    ]
    # Each original statement gets its own count back, in order.
    results: list[Any] = [["b"], 5, 1, 7, 0, ["d"]]
    assert row_counts(planned, results) == [0, 1, 5, 1, 7, 0, 1, 0]


def _complete(sql: Any, workflow_id: str, owner: str, status: str, output: str | None) -> Any:
    params = {
        "workflow_uuid": workflow_id,
        "owner_xid": owner,
        "status": status,
        "output": output,
        "error": '{"e": 1}' if status == "ERROR" else None,
        "now": now_ms(),
    }
    return (sql.COMPLETE_WORKFLOW, params)


def test_outcomes_written_together_count_and_change_each_row_as_alone(
    connections: Connections,
) -> None:
    """Outcomes of one group commit: each changes its own row only if that execution still
    owns it, and says so; a second outcome of the same workflow finds it finished."""
    store = _with_pending(connections, "bulk", 6)
    sql = connections.sql
    statements = [
        _complete(sql, "bulk-0", "owner-0", "SUCCESS", '"zero"'),
        _complete(sql, "bulk-1", "owner-1", "ERROR", None),
        _complete(sql, "bulk-2", "someone-else", "SUCCESS", '"lost"'),  # taken over: refused
        _complete(sql, "bulk-missing", "owner-x", "SUCCESS", '"none"'),  # no such row
        _complete(sql, "bulk-3", "owner-3", "SUCCESS", '"three"'),
        _complete(sql, "bulk-3", "owner-3", "ERROR", None),  # already finished: refused
        (
            sql.RECORD_STEP,
            StepWrite("bulk-4", "owner-4", 1, "a step", output="1").params(),
        ),  # another statement between runs
        _complete(sql, "bulk-4", "owner-4", "SUCCESS", '"four"'),
        _complete(sql, "bulk-5", "owner-5", "SUCCESS", None),
    ]
    merged = [p.keys for p in plan(statements, connections._bulk_forms) if p.keys]
    if connections.backend == "postgresql":  # SQLite sends each statement as it is
        assert merged == [
            ("bulk-0", "bulk-1", "bulk-2", "bulk-missing", "bulk-3"),
            ("bulk-4", "bulk-5"),
        ]
    else:
        assert merged == []
    assert connections._execute_batch(statements) == [1, 1, 0, 0, 1, 0, 1, 1, 1]
    outcome = {
        f"bulk-{i}": tuple(row[k] for k in (W.STATUS, W.OUTPUT, W.ERROR))
        for i in range(6)
        if (row := store.get_workflow(f"bulk-{i}")) is not None
    }
    assert outcome == {
        "bulk-0": ("SUCCESS", '"zero"', None),
        "bulk-1": ("ERROR", None, '{"e": 1}'),
        "bulk-2": ("PENDING", None, None),
        "bulk-3": ("SUCCESS", '"three"', None),
        "bulk-4": ("SUCCESS", '"four"', None),
        "bulk-5": ("SUCCESS", None, None),
    }
    assert [s.function_name for s in store.load_steps("bulk-4").values()] == ["a step"]


def _with_pending(connections: Connections, prefix: str, count: int) -> WorkflowStore:
    """A store holding `count` PENDING workflows `{prefix}-{i}`, each of execution `owner-{i}`."""
    store = WorkflowStore(connections)
    for i in range(count):
        assert store.insert_workflow(_pending_row(f"{prefix}-{i}", f"owner-{i}"))
    return store


def _pending_row(workflow_id: str, owner: str) -> dict[str, Any]:
    """A new PENDING workflow row of `owner`'s execution: every column the INSERT takes."""
    row: dict[str, Any] = dict.fromkeys(
        (
            "class_name config_name executor_id application_version workflow_timeout_ms "
            "workflow_deadline_epoch_ms parent_workflow_id queue_name authenticated_user "
            "authenticated_roles assumed_role forked_from deduplication_id queue_partition_key "
            "started_at_epoch_ms delay_until_epoch_ms debounce_deadline_epoch_ms trace_context "
            "attributes"
        ).split()
    )
    row |= {
        "workflow_uuid": workflow_id,
        "status": "PENDING",
        "name": "bulk.workflow",
        "inputs": '{"args": [], "kwargs": {}}',
        "serialization": "portable_json",
        "now": now_ms(),
        "recovery_attempts": 1,
        "owner_xid": owner,
        "priority": 0,
    }
    return row


def test_a_batch_failing_part_way_commits_none_of_it_and_the_next_batches_run(
    connections: Connections,
) -> None:
    """The batch is one transaction (on PostgreSQL BEGIN, the statements and COMMIT go in one
    pipeline): a statement failing after others ran undoes them, and the connection it failed
    on does not come back with its failed transaction to spoil later batches."""
    _with_pending(connections, "undone", 3)
    sql = connections.sql
    failing = [
        _complete(sql, "undone-0", "owner-0", "SUCCESS", '"zero"'),
        _complete(sql, "undone-1", "owner-1", "SUCCESS", '"one"'),
        ("SELECT no_such_column FROM no_such_table", {}),
        _complete(sql, "undone-2", "owner-2", "SUCCESS", '"two"'),
    ]
    try:
        connections._execute_batch(failing)
    except Exception as exc:  # the driver's error for the missing table
        assert "no_such_table" in str(exc)
    else:
        raise AssertionError("a batch with a failing statement succeeded")
    assert _committed(connections, "undone-") == [("PENDING", None)] * 3
    for i in range(3):  # more batches than the failure could have left spoiled connections
        assert connections._execute_batch(
            [_complete(sql, f"undone-{i}", f"owner-{i}", "SUCCESS", f'"{i}"')]
        ) == [1]
    assert _committed(connections, "undone-") == [("SUCCESS", f'"{i}"') for i in range(3)]


def _committed(connections: Connections, prefix: str) -> list[tuple[Any, ...]]:
    """(status, output) of the workflows whose IDs start with `prefix`, read on a connection of
    its own: what has committed, not what one connection's open transaction sees."""
    table = f"{connections.schema}.workflow_status" if connections.schema else "workflow_status"
    with connections.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT status, output FROM {table} WHERE workflow_uuid LIKE :p "
                "ORDER BY workflow_uuid"
            ),
            {"p": f"{prefix}%"},
        ).fetchall()
    return [tuple(r) for r in rows]
