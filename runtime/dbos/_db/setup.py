"""Creating, migrating and dropping the system database.

Concurrent first launches (N replicas starting at once) take turns: BEGIN IMMEDIATE on SQLite,
an advisory lock on PostgreSQL. A database stamped by a newer schema is refused, untouched.
A database written by upstream DBOS 2.x is converted to ours first (`upstream_convert`), in
the same transaction, unless upstream processes seem to be using it still.
"""

from __future__ import annotations

import contextlib
import logging
import os

import sqlalchemy as sa

from .._config import mask_url
from .._error import DBOSDatabaseConnectionError, DBOSInitializationError, DBOSSchemaVersionError
from .databases import database_exists, drop_database, ensure_database, open_waiting
from .migrations import MigrationContext, pending
from .schema import SCHEMA_VERSION
from .store import Store
from .upstream import InFlight, UpstreamDatabase, detect, in_flight, signs_of_life
from .upstream_convert import Converted, carry_over, convert

logger = logging.getLogger("dbos")

logger = logging.getLogger("dbos")


class SchemaSetup(Store):
    # Convert an upstream database even though upstream processes seem to be using it
    # (`dbos migrate --force`); what a conversion did, and the work it found in flight.
    convert_upstream_in_use = False
    converted: Converted | None = None
    converted_in_flight: list[InFlight] | None = None

    def initialize(self, run_migrations: bool = True, *, wait: bool = True) -> None:
        """Create the database when missing, bring the schema to this code's version, or refuse.

        A database that cannot be reached yet (a container starting before its database, a
        restart) is waited for, with a log line every few seconds, up to `retry_bound_sec`;
        without `wait`, one attempt (a client checking its connection)."""
        if not wait:
            self._initialize_once(run_migrations)
        else:
            open_waiting(
                lambda: self._initialize_once(run_migrations),
                self.db.url,
                "system database",
                self.db.retry_bound_sec,
            )
        if self.db.sqlite_file is not None:
            self.db.sqlite_file.remember()

    def _initialize_once(self, run_migrations: bool) -> None:
        if self.backend == "postgresql" and run_migrations:
            ensure_database(self.db.url, "system database")
        try:
            self._initialize_schema(run_migrations)
        except sa.exc.OperationalError as exc:
            raise DBOSDatabaseConnectionError(
                f"Cannot open system database {mask_url(self.db.url)}: {exc.orig}"
            ) from exc

    def _initialize_schema(self, run_migrations: bool) -> None:
        # Connections run in autocommit mode, so the transaction that makes concurrent first
        # launches (N replicas starting at once) take turns is begun explicitly.
        with self.db.engine.connect() as conn:
            if self.backend == "postgresql":
                conn.exec_driver_sql("BEGIN")
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(8128004917)")
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.db.schema}"')
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                self._migrate(conn, run_migrations)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    def _migrate(self, conn: sa.Connection, run_migrations: bool) -> None:
        found = detect(conn, self.backend, self.db.schema)
        if found is not None:
            self._convert_upstream(conn, found, run_migrations)
        inspector = sa.inspect(conn)
        migrations = self.db.table("dbos_migrations")
        if not inspector.has_table("dbos_migrations", schema=self.db.schema):
            if not run_migrations:
                raise DBOSInitializationError(
                    f"System database {mask_url(self.db.url)} has no DBOS schema and "
                    "run_migrations is False"
                )
            if inspector.has_table("workflow_status", schema=self.db.schema):
                # Upstream DBOS before 2.0 (Alembic's migrations, no dbos_migrations table).
                raise DBOSInitializationError(
                    f"System database {mask_url(self.db.url)} holds a workflow_status table but no "
                    "dbos_migrations: a schema this dbos cannot convert (upstream DBOS before "
                    "2.0?); only upstream 2.x system databases are converted"
                )
            self._create_tables(conn)
            self._migration_context(conn).install_wake_triggers()
            self._migration_context(conn).install_sql_api()
            conn.execute(migrations.insert().values(version=SCHEMA_VERSION))
            return
        version = conn.execute(sa.select(sa.func.max(migrations.c.version))).scalar()
        if version is None:
            raise DBOSInitializationError(
                f"System database {mask_url(self.db.url)} has an empty dbos_migrations table: "
                "the schema is corrupt or was created by another tool"
            )
        if int(version) > SCHEMA_VERSION:
            raise DBOSSchemaVersionError(
                f"System database {mask_url(self.db.url)} has schema version {version}, newer than "
                f"the version {SCHEMA_VERSION} this dbos understands. Upgrade dbos, or point "
                "system_database_url at another database."
            )
        steps = pending(int(version))
        if steps and not run_migrations:
            raise DBOSInitializationError(
                f"System database {mask_url(self.db.url)} has schema version {version}, older than "
                f"this dbos's {SCHEMA_VERSION}, and run_migrations is False"
            )
        for migration in steps:
            migration.apply(self._migration_context(conn))
            conn.execute(migrations.insert().values(version=migration.version))
        carried = carry_over(conn, self.backend, self.db.schema) if run_migrations else []
        if carried:
            logger.info("Carried over upstream DBOS's %s", ", ".join(carried))

    def _convert_upstream(
        self, conn: sa.Connection, found: UpstreamDatabase, run_migrations: bool
    ) -> None:
        where = mask_url(self.db.url)
        if not run_migrations:
            raise DBOSInitializationError(
                f"System database {where} holds {found.describe()} and run_migrations is "
                "False: convert it with `dbos migrate`"
            )
        if not self.convert_upstream_in_use:
            reasons = signs_of_life(conn, found)
            if reasons:
                raise DBOSInitializationError(
                    f"System database {where} holds {found.describe()}, which upstream DBOS "
                    f"processes may still be using ({'; '.join(reasons)}). Stop them first; "
                    "if none is running, `dbos migrate --force` converts it anyway"
                )
        logger.info("Converting %s in %s to this dbos's schema, in place", found.describe(), where)
        done = convert(conn, found)
        self._migration_context(conn).install_wake_triggers()  # ours, as our version 6 has
        self.converted = done
        self.converted_in_flight = in_flight(conn, self.backend, self.db.schema)
        logger.info(
            "Converted %s: %d workflows, %d messages, %d stream values kept",
            done.source,
            done.workflows,
            done.messages,
            done.stream_values,
        )
        for group in self.converted_in_flight:
            logger.warning(
                "Work in flight under application version %s: a process recovers only "
                "workflows of its own application_version",
                group.describe(),
            )

    def upstream_database(self) -> UpstreamDatabase | None:
        """The upstream DBOS schema this database holds, if it holds one (not converted)."""
        with self.db.engine.connect() as conn:
            return detect(conn, self.backend, self.db.schema)

    def check_connection(self) -> None:
        """One round trip to the database: raises if it cannot be reached."""
        self.db.fetchall("SELECT 1", {})

    def _migration_context(self, conn: sa.Connection) -> MigrationContext:
        return MigrationContext(conn, self.backend, self.db.schema, self.db.metadata)

    def _create_tables(self, conn: sa.Connection) -> None:
        if self.backend != "postgresql":
            self.db.metadata.create_all(conn, checkfirst=False)
            return
        # One round trip for all the DDL instead of one per table and index.
        ddl: list[str] = []
        for table in self.db.metadata.sorted_tables:
            ddl.append(str(sa.schema.CreateTable(table).compile(dialect=conn.dialect)))
            for index in table.indexes:
                ddl.append(str(sa.schema.CreateIndex(index).compile(dialect=conn.dialect)))
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(";\n".join(ddl))  # no parameters: psycopg sends it as one query
        finally:
            cursor.close()

    def empty_database(self) -> None:
        """Empty every table of the system database (and the transaction outputs kept beside
        it), keeping the schema and its version: the fast test reset. Tables of the
        application's own in the same database are left alone."""
        if self.backend == "sqlite" and not os.path.exists(self.db.url.database or ""):
            return
        if self.backend == "postgresql" and not database_exists(self.db.url, "system database"):
            return
        with self.db.engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names(schema=self.db.schema))
            if "dbos_migrations" not in present:
                return  # no DBOS schema here: nothing of ours to empty
            names = [t.name for t in reversed(self.db.metadata.sorted_tables)]
            names += ["transaction_outputs", "datasource_outputs"]
            tables = [n for n in names if n in present and n != "dbos_migrations"]
            prefix = f'"{self.db.schema}".' if self.backend == "postgresql" else ""
            if self.backend == "postgresql":
                _evict_other_sessions(conn)
                conn.exec_driver_sql("TRUNCATE " + ", ".join(f'{prefix}"{t}"' for t in tables))
                return
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                for table in tables:  # children before parents, for the foreign keys
                    conn.exec_driver_sql(f'DELETE FROM "{table}"')
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    def drop_database(self) -> None:
        """Remove every trace of the system database (the test-fixture reset)."""
        self.db.engine.dispose()
        if self.db.sqlite_file is not None:
            self.db.sqlite_file.forget()
        if self.backend == "sqlite":
            path = self.db.url.database
            assert path is not None
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path + suffix)
            return
        drop_database(self.db.url, "system database")


def _evict_other_sessions(conn: sa.Connection) -> None:
    """End the other sessions on the database (as DROP DATABASE ... WITH (FORCE) would), so a
    forgotten process holding a lock does not block the reset; best effort (a role may lack
    the right to signal them)."""
    try:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    except sa.exc.DBAPIError as exc:
        logger.warning("Could not end the other sessions before emptying the database: %s", exc)
