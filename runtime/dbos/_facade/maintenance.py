"""`DBOS.garbage_collect`: retention on demand, for the process that owns the databases; and
`DBOS.reset_system_database`, the test fixtures' reset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .._config import DBOSConfig, normalize_url
from .._core.checkpoint import active_workflow
from .._core.runtime import logger
from .._error import DBOSException

if TYPE_CHECKING:
    from .._db.system import SystemDatabase


class Maintenance:
    if TYPE_CHECKING:  # DBOS's own, read here
        _instance: ClassVar[Any]

        @classmethod
        def _system_database(cls, config: DBOSConfig) -> SystemDatabase: ...

    @classmethod
    def reset_system_database(
        cls,
        *,
        system_database_url: str | None = None,
        schema: str | None = None,
        truncate: bool = False,
    ) -> None:
        """Reset the system database for a test: drop it, or with `truncate` empty its tables
        (keeping the schema: much faster). The configured database unless
        `system_database_url` (and `schema`) name another; before `DBOS.launch()` only."""
        from .._db.system import SystemDatabase

        instance = cls._instance
        if instance is not None and instance._launched:
            raise DBOSException("DBOS.reset_system_database() must be called before launch()")
        if instance is None and system_database_url is None:
            logger.warning(
                "DBOS.reset_system_database() did nothing: call DBOS(config=...) first, or "
                "pass system_database_url="
            )
            return
        if system_database_url is None:
            config: DBOSConfig = dict(instance._config)  # type: ignore[assignment]
            if schema is not None:
                config["dbos_system_schema"] = schema
            sysdb = cls._system_database(config)
        else:
            sysdb = SystemDatabase(normalize_url(system_database_url), schema=schema or "dbos")
        try:
            if truncate:
                sysdb.setup.empty_database()
            else:
                sysdb.setup.drop_database()
        finally:
            sysdb.dispose()

    @classmethod
    def garbage_collect(
        cls,
        cutoff_epoch_ms: int | None = None,
        rows_threshold: int | None = None,
        *,
        batch_size: int = 500,
    ) -> int:
        """Delete finished workflows that completed before `cutoff_epoch_ms` and those older
        than the newest `rows_threshold`, with their steps, messages, events, streams and
        transaction outputs, `batch_size` workflows per transaction. Live workflows and
        finished children of live parents are kept. Returns how many were deleted."""
        from .._core.retention import garbage_collect
        from .._core.runtime import get_runtime

        if active_workflow() is not None:
            raise DBOSException("DBOS.garbage_collect cannot be called from a workflow")
        runtime = get_runtime()
        return garbage_collect(
            runtime.sysdb,
            [runtime.app_db] if runtime.app_db is not None else [],
            cutoff_epoch_ms=cutoff_epoch_ms,
            rows_threshold=rows_threshold,
            batch_size=batch_size,
        )
