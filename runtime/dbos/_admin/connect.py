"""Finding and opening the system database the way the runtime does, but without launching:
no recovery, no services, no migration (except `dbos migrate`), and no database created by a
mistyped URL. Every failure is an `AdminError` whose message is one line for a person."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from .._config import mask_url, normalize_url, resolve_system_database_url
from .._core.runtime import Runtime
from .._db.schema import SCHEMA_VERSION
from .._db.system import SystemDatabase
from .._db.upstream import InFlight
from .._db.upstream_convert import Converted
from .._error import DBOSException
from .._serialization import DEFAULT_SERIALIZER
from .._threads import DaemonPool
from .config_file import ProjectConfig

URL_ENV = "DBOS_SYSTEM_DATABASE_URL"
# An admin command should fail fast on a database that is down, not ride out an outage.
ADMIN_RETRY_BOUND_SEC = 5.0


class AdminError(Exception):
    """A failure to report as one line (and a non-zero exit), never as a traceback."""


class NotFound(AdminError):
    """The workflow asked for does not exist (the dashboard answers 404)."""


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_system_database(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dbos_migrations'"
        ).fetchone()
        return row is not None
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def resolve_url(
    db_url: str | None,
    app_name: str | None = None,
    cwd: Path | None = None,
    project: ProjectConfig | None = None,
) -> str:
    """`--db-url`, else `$DBOS_SYSTEM_DATABASE_URL`, else what `dbos-config.yaml` (`project`)
    names, else the app's SQLite default in the working directory: `<app name>.sqlite` with
    `--app-name`, else the one `*.sqlite` file there that holds a DBOS schema."""
    if db_url:
        return db_url
    from_env = os.environ.get(URL_ENV)
    if from_env:
        return from_env
    where = cwd or Path.cwd()
    from_file = project.system_url() if project is not None and not app_name else None
    if from_file:
        return _in(where, from_file) if cwd is not None else from_file
    if app_name:
        default = resolve_system_database_url({"name": app_name})  # as the runtime does
        return default if cwd is None else _in(where, default)
    found = sorted(p for p in where.glob("*.sqlite") if _is_system_database(p))
    if len(found) == 1:
        return f"sqlite:///{found[0]}"
    if not found:
        raise AdminError(
            f"no system database found: pass --db-url, set ${URL_ENV}, or run in the "
            f"application's directory (no DBOS *.sqlite file in {where})"
        )
    names = ", ".join(p.name for p in found)
    raise AdminError(f"several system databases in {where} ({names}): pick one with --db-url")


def _in(where: Path, url: str) -> str:
    """A relative SQLite file of `url` placed in `where`."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix) :].startswith("/"):
        return f"{prefix}{where}/{url[len(prefix) :]}"
    return url


@dataclass
class AdminSession:
    """An opened system database and a runtime to control workflows through it (one that
    runs nothing here: resumes and forks go on a queue, for the workers)."""

    url: str
    sysdb: SystemDatabase
    runtime: Runtime

    def close(self) -> None:
        self.runtime.shutdown()


def _new_sysdb(url: str, schema: str) -> SystemDatabase:
    try:
        parsed = normalize_url(url)
    except DBOSException as exc:
        raise AdminError(str(exc)) from None
    sysdb = SystemDatabase(parsed, schema=schema, pool_size=4)
    sysdb.retry_bound_sec = ADMIN_RETRY_BOUND_SEC
    return sysdb


def check_schema(sysdb: SystemDatabase) -> None:
    where = mask_url(sysdb.url)
    try:
        version = sysdb.inspection.schema_version()
    except sa.exc.SQLAlchemyError as exc:
        raise AdminError(f"cannot open system database {where}: {first_line(exc)}") from None
    upstream = sysdb.setup.upstream_database()
    if upstream is not None:
        raise AdminError(
            f"{where} holds {upstream.describe()}: `dbos migrate` converts it to this dbos's "
            "schema (stop upstream's processes first)"
        )
    if version is None:
        raise AdminError(
            f"{where} has no DBOS system schema (`dbos migrate` creates one, or check the URL)"
        )
    if version > SCHEMA_VERSION:
        raise AdminError(
            f"system database {where} has schema version {version}, newer than the version "
            f"{SCHEMA_VERSION} this dbos understands: upgrade dbos-durable"
        )
    if version < SCHEMA_VERSION:
        raise AdminError(
            f"system database {where} has schema version {version}, older than this dbos's "
            f"{SCHEMA_VERSION}: run `dbos migrate` first"
        )


def open_session(url: str, schema: str = "dbos") -> AdminSession:
    """Open an existing system database at this code's schema version."""
    sysdb = _new_sysdb(url, schema)
    try:
        if sysdb.backend == "sqlite":
            path = sysdb.url.database or ""
            if not Path(path).is_file():
                raise AdminError(f"no such SQLite system database: {path}")
        check_schema(sysdb)
    except BaseException:
        sysdb.dispose()
        raise
    runtime = Runtime(
        sysdb=sysdb,
        serializer=DEFAULT_SERIALIZER,
        executor_id="dbos-admin",
        app_version="",
        pool=DaemonPool(1, name="dbos-admin"),
    )
    return AdminSession(url, sysdb, runtime)


@contextlib.contextmanager
def session(url: str, schema: str = "dbos") -> Iterator[AdminSession]:
    opened = open_session(url, schema)
    try:
        yield opened
    finally:
        opened.close()


@dataclass
class Migrated:
    """What `dbos migrate` did: the version reached, and an upstream database's conversion
    with the work it found in flight."""

    version: int
    converted: Converted | None = None
    in_flight: list[InFlight] = field(default_factory=list)


def migrate(url: str, schema: str = "dbos", convert_in_use: bool = False) -> Migrated:
    """Create the system database if missing and bring its schema to this code's version (an
    upstream DBOS database is converted; with `convert_in_use`, even if it seems in use)."""
    sysdb = _new_sysdb(url, schema)
    sysdb.setup.convert_upstream_in_use = convert_in_use
    try:
        sysdb.setup.initialize(run_migrations=True)
        version = sysdb.inspection.schema_version()
    except DBOSException as exc:
        raise AdminError(first_line(exc)) from None
    except sa.exc.SQLAlchemyError as exc:
        raise AdminError(f"cannot migrate {mask_url(sysdb.url)}: {first_line(exc)}") from None
    finally:
        sysdb.dispose()
    return Migrated(
        version or SCHEMA_VERSION,
        sysdb.setup.converted,
        list(sysdb.setup.converted_in_flight or []),
    )


def reset(url: str, schema: str = "dbos") -> None:
    """Drop the system database: every workflow, step and message in it."""
    sysdb = _new_sysdb(url, schema)
    try:
        if sysdb.backend == "sqlite" and not Path(sysdb.url.database or "").is_file():
            raise AdminError(f"no such SQLite system database: {sysdb.url.database}")
        sysdb.setup.drop_database()
    except DBOSException as exc:
        raise AdminError(first_line(exc)) from None
    except sa.exc.SQLAlchemyError as exc:
        raise AdminError(f"cannot reset {mask_url(sysdb.url)}: {first_line(exc)}") from None
    finally:
        sysdb.dispose()
