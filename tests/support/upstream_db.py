"""Loading the upstream fixtures (tests/upstream_fixtures/, made by its generate.py from
released upstream DBOS) into a fresh database, as that release left it."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import psycopg
import sqlalchemy as sa

from dbos._config import normalize_url
from dbos._db.databases import create_database_if_missing

FIXTURES = Path(__file__).resolve().parents[1] / "upstream_fixtures"

# Every fixture, oldest release first.
RELEASES = sorted(
    (p.stem.removeprefix("dbos-") for p in (FIXTURES / "sqlite").glob("dbos-*.sql")),
    key=lambda r: tuple(int(x) for x in r.split(".")),
)

_COPY = re.compile(r"^COPY .* FROM stdin;$", re.MULTILINE)


def load(release: str, backend: str, url: str) -> None:
    """Recreate at `url` (which must be empty) the system database upstream `release` wrote."""
    dump = (FIXTURES / backend / f"dbos-{release}.sql").read_text()
    if backend == "sqlite":
        path = sa.make_url(url).database
        assert path
        conn = sqlite3.connect(path)
        try:
            conn.executescript(dump)
        finally:
            conn.close()
        return
    create_database_if_missing(normalize_url(url), "system database")
    plain = sa.make_url(normalize_url(url)).set(drivername="postgresql")
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as conn:
        _load_pg_dump(conn, dump)


def _load_pg_dump(conn: psycopg.Connection, dump: str) -> None:
    """pg_dump's plain output: SQL, with COPY blocks whose rows follow until a line `\\.`."""
    pos = 0
    while True:
        match = _COPY.search(dump, pos)
        statements = dump[pos : match.start() if match else len(dump)]
        if statements.strip():
            conn.execute(statements.encode())
        if match is None:
            return
        end = dump.index("\n\\.\n", match.end())
        rows = dump[match.end() + 1 : end + 1]
        with conn.cursor().copy(match.group(0).removesuffix(";")) as copy:
            copy.write(rows.encode())
        pos = end + 4
