"""The IDs this runtime gives workflows (and messages) when the caller names none: time-ordered
UUIDs, version 7 of RFC 9562, where upstream gives random ones (version 4).

Why: every table a workflow writes is keyed by its ID (its status row, its steps, its
messages' unique index). A random key lands on a random leaf page of each index, so once the
tables outgrow memory nearly every new workflow and every step checkpoint dirties a page
nobody else touched (and, after a checkpoint, writes it whole to the WAL). A version-7 ID
starts with its creation time in milliseconds, so the keys written together land together at
the right edge of each index. Measured on PostgreSQL with about 300,000 rows in the table: a
batch enqueue of 2,000 rows took 24.4-24.8 ms in the database with random IDs and 18.3-20.1 ms
with these.

They are still 128-bit UUIDs in the canonical text form, with 74 random bits each (what
`uuid.UUID` parses; only the version digit and the leading timestamp differ), so nothing that
stores, compares or parses a workflow ID changes. The creation time they carry is already in
the row (`created_at`).
"""

from __future__ import annotations

import os
import time

_VERSION_7 = 0x70
_VARIANT_RFC = 0x80


def _format(raw: bytearray, offset: int) -> str:
    h = raw[offset : offset + 16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _stamped(count: int) -> bytearray:
    """`count` UUIDs' bytes: random, each stamped with this millisecond, version and variant."""
    raw = bytearray(os.urandom(16 * count))
    millis = (time.time_ns() // 1_000_000).to_bytes(6, "big")
    for i in range(0, 16 * count, 16):
        raw[i : i + 6] = millis
        raw[i + 6] = (raw[i + 6] & 0x0F) | _VERSION_7
        raw[i + 8] = (raw[i + 8] & 0x3F) | _VARIANT_RFC
    return raw


def new_id() -> str:
    """A fresh workflow ID (a version-7 UUID as text)."""
    return _format(_stamped(1), 0)


def new_ids(count: int) -> list[str]:
    """`count` fresh workflow IDs in ascending order (a batch's rows then go into each index
    one after another), drawn from the OS in one read."""
    raw = _stamped(count)
    return sorted(_format(raw, i) for i in range(0, 16 * count, 16))
