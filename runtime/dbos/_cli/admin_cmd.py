"""`dbos migrate`, `dbos reset`, `dbos gc`."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator

from .._admin.connect import AdminError, AdminSession, first_line
from .._admin.times import duration_sec
from .._admin.values import when
from .._config import mask_url, normalize_url
from .._core.retention import garbage_collect
from .._db.application import ApplicationDatabase
from .._db.records import now_ms
from .._error import DBOSException
from .progress import Progress


@contextlib.contextmanager
def _outputs_databases(
    s: AdminSession, app_db_url: str | None
) -> Iterator[list[ApplicationDatabase]]:
    """The databases holding transaction outputs to delete with their workflows: the one
    named by --app-db-url, and the system database itself when the application shares its
    file (the SQLite default)."""
    opened: list[ApplicationDatabase] = []
    try:
        urls = [app_db_url] if app_db_url else []
        urls.append(s.url)
        for url in urls:
            try:
                app_db = ApplicationDatabase(normalize_url(url), schema=s.sysdb.schema or "dbos")
                opened.append(app_db)
                present = app_db.has_outputs_table()
            except DBOSException as exc:
                raise AdminError(first_line(exc)) from None
            if not present and url == app_db_url:
                raise AdminError(f"{mask_url(url)} holds no DBOS transaction outputs")
        yield [db for db in opened if db.has_outputs_table()]
    finally:
        for app_db in opened:
            app_db.dispose()


def gc_cmd(s: AdminSession, args: argparse.Namespace) -> None:
    if args.older_than is None and args.keep is None:
        raise AdminError("say what to delete: --older-than 30d, --keep N, or both")
    cutoff = None
    if args.older_than is not None:
        cutoff = now_ms() - int(duration_sec(args.older_than, "--older-than") * 1000)
    with _outputs_databases(s, args.app_db_url) as app_dbs:
        progress = Progress("deleted workflows")
        started = time.monotonic()
        try:
            deleted = garbage_collect(
                s.sysdb,
                app_dbs,
                cutoff_epoch_ms=cutoff,
                rows_threshold=args.keep,
                batch_size=args.batch_size,
                progress=progress.update,
            )
        except DBOSException as exc:
            raise AdminError(first_line(exc)) from None
        finally:
            progress.finish()
    took = time.monotonic() - started
    before = f" finished before {when(cutoff)}" if cutoff is not None else ""
    print(f"deleted {deleted} workflows{before} in {took:.1f}s")


def migrate_cmd(url: str, schema: str, app_url: str | None = None, force: bool = False) -> None:
    """The system database, created, converted from upstream's or brought up to date; with
    `app_url`, the application database too (created if missing, with its transaction outputs
    table)."""
    from .._admin.connect import ADMIN_RETRY_BOUND_SEC, migrate

    done = migrate(url, schema, convert_in_use=force)
    if done.converted is not None:
        c = done.converted
        print(
            f"{mask_url(url)}: converted {c.source}: {c.workflows} workflows, {c.messages} "
            f"messages, {c.stream_values} stream values kept"
        )
    print(f"{mask_url(url)}: system schema at version {done.version}")
    if done.converted is not None and done.in_flight:
        print("work in flight, by application version (a process recovers only its own):")
        for group in done.in_flight:
            print(f"  {group.describe()}")
        print(
            "  pin application_version in the config to the version above (or run the code "
            "that had it) before launching, or that work is not recovered"
        )
    if app_url:
        try:
            app_db = ApplicationDatabase(normalize_url(app_url), schema=schema)
        except DBOSException as exc:
            raise AdminError(first_line(exc)) from None
        try:
            app_db.initialize(ADMIN_RETRY_BOUND_SEC)
        except DBOSException as exc:
            raise AdminError(first_line(exc)) from None
        finally:
            app_db.dispose()
        print(f"{mask_url(app_url)}: application database ready")


def reset_cmd(url: str, schema: str, yes: bool) -> None:
    from .._admin.connect import reset

    if not yes:
        raise AdminError(f"this deletes every workflow in {mask_url(url)}: add --yes to do it")
    reset(url, schema)
    print(f"{mask_url(url)}: dropped (the application recreates it at launch)", file=sys.stdout)
