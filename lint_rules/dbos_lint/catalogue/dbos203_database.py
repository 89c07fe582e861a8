"""DBOS203: database clients, whose reads change and whose writes a replay repeats.

Detected by ``checks/calls.py`` from the tables below: a call into a module of ``MODULES``;
any method of a ``CLIENTS`` object (a connection, a cursor, an engine, a session). The mypy
plugin reads the same tables.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

DATABASE = "DBOS203"

RULES: tuple[Rule, ...] = (
    Rule(
        code=DATABASE,
        name="database-client-in-workflow",
        summary="A workflow opens a database client (`sqlite3`, `psycopg`, `pymongo`, `redis`...).",
        message="`{name}` talks to a database from a workflow; do it in a "
        "@DBOS.transaction() or @DBOS.step() so the effect is recorded once",
        why="Reads can return new data on recovery and writes run again on every replay. A "
        "`@DBOS.transaction()` commits its effect together with its checkpoint.",
        fix="Use `@DBOS.transaction()` with `DBOS.sql_session`, or wrap the client in a step.",
        flagged=(
            _wf('conn = sqlite3.connect("app.db")', head="import sqlite3\n"),
            _wf("r = redis.Redis()", head="import redis\n"),
        ),
        not_flagged=(
            "import sqlite3\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef count() -> int:\n"
            '    return sqlite3.connect("a.db").execute("select 1").fetchone()[0]\n',
        ),
    ),
)

FAMILY = Family(
    rules=RULES,
    modules={
        m: DATABASE
        for m in (
            "sqlite3 psycopg psycopg2 psycopg_pool asyncpg pymysql MySQLdb mysql.connector "
            "pymongo motor redis boto3 aiosqlite"
        ).split()
    },
    clients={
        cls: DATABASE
        for cls in (
            "sqlite3.Connection",
            "sqlite3.Cursor",
            "psycopg.Connection",
            "psycopg.AsyncConnection",
            "psycopg.Cursor",
            "psycopg.AsyncCursor",
            "psycopg_pool.ConnectionPool",
            "psycopg_pool.AsyncConnectionPool",
            "psycopg2.extensions.connection",
            "psycopg2.extensions.cursor",
            "asyncpg.Connection",
            "asyncpg.Pool",
            "pymysql.connections.Connection",
            "pymongo.MongoClient",
            "motor.motor_asyncio.AsyncIOMotorClient",
            "redis.Redis",
            "redis.StrictRedis",
            "redis.asyncio.Redis",
            "aiosqlite.Connection",
            "sqlalchemy.engine.Engine",
            "sqlalchemy.engine.Connection",
            "sqlalchemy.orm.Session",
            "sqlalchemy.orm.scoped_session",
            "sqlalchemy.ext.asyncio.AsyncSession",
            "sqlalchemy.ext.asyncio.AsyncEngine",
            "sqlalchemy.ext.asyncio.AsyncConnection",
        )
    },
)
