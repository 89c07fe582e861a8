"""Names a user gives (workflow IDs, topics, event and stream keys, queue names, deduplication
IDs, partition keys) must be text both system databases store and match alike.

A NUL character (U+0000) is the one that is not: PostgreSQL's `text` cannot hold it (psycopg
refuses the statement with a `DataError` that names no argument), while SQLite stores it and
later matches or truncates it differently from tools that read the file. Checking at the stores,
before any statement runs, makes the same call fail the same way on both databases, names the
argument, and writes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def require_storable(value: object, what: str) -> None:
    """Raise ValueError naming `what` when `value` is text holding a NUL character."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(
            f"{what} cannot contain a NUL character (\\x00), which the system database cannot "
            f"store: {value!r}"
        )


def require_storable_fields(row: Mapping[str, object], fields: Mapping[str, str]) -> None:
    """`require_storable` for each of `row`'s columns named in `fields` (column -> what)."""
    for column, what in fields.items():
        require_storable(row.get(column), what)


def require_storable_rows(rows: Sequence[Mapping[str, object]], fields: Mapping[str, str]) -> None:
    """`require_storable_fields` for every row of a batch: one search per column over the text
    of all rows (a batch enqueue's 2,000 rows cost a call per row and column otherwise), and
    the value named only when a NUL is there."""
    for column, what in fields.items():
        texts = [v for row in rows if isinstance(v := row.get(column), str)]
        if "\x00" in "".join(texts):
            for text in texts:
                require_storable(text, what)


# The columns of a new workflow row that hold names a user chose.
WORKFLOW_ROW_NAMES = {
    "workflow_uuid": "A workflow ID",
    "queue_name": "A queue name",
    "deduplication_id": "A deduplication ID",
    "queue_partition_key": "A queue partition key",
}
