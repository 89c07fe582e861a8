"""Raw-database limit: a loop of single-row ``INSERT`` + ``COMMIT``, no framework.

* SQLite (stdlib ``sqlite3``): ``journal_mode=WAL``, ``synchronous=FULL``.
* PostgreSQL (``psycopg``, server with ``fsync=on``, ``synchronous_commit=on``).

Metrics (median over ``batches`` batches of the mean per-row cost; each batch is ``n`` rows):

* ``insert_commit_ms``: the limit: one autocommitted ``INSERT`` per row (the statement is its own
  transaction: one round trip, one durable commit). This is what the tables compare against.
* ``explicit_tx_ms``: ``BEGIN``; ``INSERT``; ``COMMIT`` per row (what a driver in
  non-autocommit mode does: more round trips, same single durable commit).

Params: ``n`` (default 500), ``batches`` (default 5). Does not import ``dbos``; the runner runs
it with this project's interpreter.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from _common import emit, parse_args

ARGS = parse_args()
ROW_TEXT = "x" * 32


def loop(insert: Callable[[int], None], n: int, batches: int, offset: int) -> list[float]:
    per_row: list[float] = []
    for b in range(batches):
        t0 = time.perf_counter()
        for i in range(n):
            insert(offset + b * n + i)
        per_row.append((time.perf_counter() - t0) / n)
    return per_row


def sqlite_loops(path: str, n: int, batches: int) -> tuple[dict[str, list[float]], list[str]]:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)  # autocommit; BEGIN/COMMIT by hand
    try:
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() == "wal"
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("DROP TABLE IF EXISTS bench")
        conn.execute("CREATE TABLE bench (id INTEGER PRIMARY KEY, v TEXT)")
        sql = "INSERT INTO bench (id, v) VALUES (?, ?)"

        def autocommit(i: int) -> None:
            conn.execute(sql, (i, ROW_TEXT))

        def explicit(i: int) -> None:
            conn.execute("BEGIN")
            conn.execute(sql, (i, ROW_TEXT))
            conn.execute("COMMIT")

        return {
            "insert_commit_ms": loop(autocommit, n, batches, 0),
            "explicit_tx_ms": loop(explicit, n, batches, n * batches),
        }, ["journal_mode=wal", "synchronous=full"]
    finally:
        conn.close()


def postgres_loops(url: str, n: int, batches: int) -> tuple[dict[str, list[float]], list[str]]:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        notes = []
        for name in ("fsync", "synchronous_commit", "wal_sync_method"):
            row = conn.execute(f"SHOW {name}").fetchone()
            notes.append(f"{name}={row[0] if row else '?'}")
        conn.execute("DROP TABLE IF EXISTS bench")
        conn.execute("CREATE TABLE bench (id BIGINT PRIMARY KEY, v TEXT)")
        sql = "INSERT INTO bench (id, v) VALUES (%s, %s)"

        def autocommit(i: int) -> None:
            conn.execute(sql, (i, ROW_TEXT))

        def explicit(i: int) -> None:
            with conn.transaction():
                conn.execute(sql, (i, ROW_TEXT))

        return {
            "insert_commit_ms": loop(autocommit, n, batches, 0),
            "explicit_tx_ms": loop(explicit, n, batches, n * batches),
        }, notes


def main() -> None:
    n = ARGS.get_int("n", 500)
    batches = ARGS.get_int("batches", 5)
    if ARGS.db.startswith("sqlite"):
        samples, notes = sqlite_loops(ARGS.db.split(":///", 1)[1], n, batches)
    else:
        samples, notes = postgres_loops(ARGS.db, n, batches)
    metrics: dict[str, Any] = {
        key: round(statistics.median(values) * 1000.0, 4) for key, values in samples.items()
    }
    emit("raw_db", ARGS, metrics, notes=notes, extra={"impl": "raw", "version": "n/a"})


if __name__ == "__main__":
    main()
