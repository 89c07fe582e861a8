"""Creating, migrating and dropping the system database.

Concurrent first launches (N replicas starting at once) take turns: BEGIN IMMEDIATE on SQLite,
an advisory lock on PostgreSQL. A database stamped by a newer schema is refused, untouched.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import sqlalchemy as sa

from .._config import mask_url
from .._error import DBOSDatabaseConnectionError, DBOSInitializationError, DBOSSchemaVersionError
from .connections import Connections, is_connection_error, logger
from .migrations import MigrationContext, pending
from .schema import SCHEMA_VERSION


class SchemaSetup(Connections):
    def initialize(self, run_migrations: bool = True) -> None:
        """Create the database when missing, bring the schema to this code's version, or refuse.

        A database that cannot be reached yet (a container starting before its database, a
        restart) is waited for, with a log line every few seconds, up to `retry_bound_sec`."""
        started = time.monotonic()
        delay = 0.1
        while True:
            try:
                self._initialize_once(run_migrations)
                return
            except DBOSDatabaseConnectionError as exc:
                cause = exc.__cause__
                waited = time.monotonic() - started
                if (
                    cause is None
                    or not is_connection_error(cause)
                    or waited >= self.retry_bound_sec
                ):
                    raise
                logger.warning(
                    "Waiting for system database %s (%s); retrying for up to %.0fs",
                    mask_url(self.url),
                    getattr(cause, "orig", cause),
                    self.retry_bound_sec - waited,
                )
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _initialize_once(self, run_migrations: bool) -> None:
        try:
            self._initialize_schema(run_migrations)
        except sa.exc.OperationalError as exc:
            # Only a missing PostgreSQL database costs a second connection (to `postgres`).
            if self.backend != "postgresql" or "does not exist" not in str(exc.orig):
                raise DBOSDatabaseConnectionError(
                    f"Cannot open system database {mask_url(self.url)}: {exc.orig}"
                ) from exc
        else:
            return
        self._create_postgres_database_if_missing()
        try:
            self._initialize_schema(run_migrations)
        except sa.exc.OperationalError as exc:
            raise DBOSDatabaseConnectionError(
                f"Cannot open system database {mask_url(self.url)}: {exc.orig}"
            ) from exc

    def _initialize_schema(self, run_migrations: bool) -> None:
        # Connections run in autocommit mode, so the transaction that makes concurrent first
        # launches (N replicas starting at once) take turns is begun explicitly.
        with self.engine.connect() as conn:
            if self.backend == "postgresql":
                conn.exec_driver_sql("BEGIN")
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(8128004917)")
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                self._migrate(conn, run_migrations)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    def _migrate(self, conn: sa.Connection, run_migrations: bool) -> None:
        inspector = sa.inspect(conn)
        migrations = self.table("dbos_migrations")
        if not inspector.has_table("dbos_migrations", schema=self.schema):
            if not run_migrations:
                raise DBOSInitializationError(
                    f"System database {mask_url(self.url)} has no DBOS schema and "
                    "run_migrations is False"
                )
            self._create_tables(conn)
            self._migration_context(conn).install_wake_triggers()
            conn.execute(migrations.insert().values(version=SCHEMA_VERSION))
            return
        version = conn.execute(sa.select(sa.func.max(migrations.c.version))).scalar()
        if version is None:
            raise DBOSInitializationError(
                f"System database {mask_url(self.url)} has an empty dbos_migrations table: "
                "the schema is corrupt or was created by another tool"
            )
        if int(version) > SCHEMA_VERSION:
            raise DBOSSchemaVersionError(
                f"System database {mask_url(self.url)} has schema version {version}, newer than "
                f"the version {SCHEMA_VERSION} this dbos understands. Upgrade dbos, or point "
                "system_database_url at another database."
            )
        steps = pending(int(version))
        if steps and not run_migrations:
            raise DBOSInitializationError(
                f"System database {mask_url(self.url)} has schema version {version}, older than "
                f"this dbos's {SCHEMA_VERSION}, and run_migrations is False"
            )
        for migration in steps:
            migration.apply(self._migration_context(conn))
            conn.execute(migrations.insert().values(version=migration.version))

    def _migration_context(self, conn: sa.Connection) -> MigrationContext:
        return MigrationContext(conn, self.backend, self.schema, self.metadata)

    def _create_tables(self, conn: sa.Connection) -> None:
        if self.backend != "postgresql":
            self.metadata.create_all(conn, checkfirst=False)
            return
        # One round trip for all the DDL instead of one per table and index.
        ddl: list[str] = []
        for table in self.metadata.sorted_tables:
            ddl.append(str(sa.schema.CreateTable(table).compile(dialect=conn.dialect)))
            for index in table.indexes:
                ddl.append(str(sa.schema.CreateIndex(index).compile(dialect=conn.dialect)))
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(";\n".join(ddl))  # no parameters: psycopg sends it as one query
        finally:
            cursor.close()

    @contextlib.contextmanager
    def _server_connection(self) -> Iterator[sa.Connection]:
        """An autocommit connection to the server's `postgres` database, for CREATE/DROP."""
        engine = sa.create_engine(
            self.url.set(database="postgres"),
            isolation_level="AUTOCOMMIT",
            poolclass=sa.pool.NullPool,
            connect_args={"connect_timeout": 10},
        )
        try:
            with engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise DBOSDatabaseConnectionError(
                f"Cannot connect to the PostgreSQL server of system database "
                f"{mask_url(self.url)}: {exc.orig}"
            ) from exc
        finally:
            engine.dispose()

    def _create_postgres_database_if_missing(self) -> None:
        exists_query = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
        name = {"name": self.url.database}
        with self._server_connection() as conn:
            if conn.execute(exists_query, name).scalar():
                return
            try:
                conn.execute(sa.text(f'CREATE DATABASE "{self.url.database}"'))
            except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
                # Another process may have created it at the same moment: fine if so.
                if not conn.execute(exists_query, name).scalar():
                    raise

    def drop_database(self) -> None:
        """Remove every trace of the system database (the test-fixture reset)."""
        self.engine.dispose()
        if self.backend == "sqlite":
            path = self.url.database
            assert path is not None
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path + suffix)
            return
        with self._server_connection() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.url.database}" WITH (FORCE)'))
