"""Configuration: the seed's `DBOSConfig` keys and how they resolve to a system database URL."""

from __future__ import annotations

import os
import re
from typing import Any, TypedDict

from sqlalchemy.engine import URL, make_url

from ._error import DBOSInitializationError


class DBOSConfig(TypedDict, total=False):
    """Keys accepted by `DBOS(config=...)`; only `name` is required."""

    name: str
    system_database_url: str | None
    application_database_url: str | None
    database_url: str | None
    log_level: str
    application_version: str
    executor_id: str
    sys_db_pool_size: int
    max_executor_threads: int
    serializer: Any
    dbos_system_schema: str
    sqlite_synchronous: str
    run_migrations: bool
    use_listen_notify: bool
    enable_patching: bool
    system_database_listen_url: str | None
    executor_timeout_sec: float
    database_retry_timeout_sec: float
    # OpenTelemetry: spans go to this provider, else to the application's global one (never
    # replaced); `otel_tracing: False` turns them off.
    otel_tracer_provider: Any
    otel_tracing: bool
    # Automatic retention (see _services/retention.py): finished workflows older than this
    # ("30d", "12h", or seconds) and/or beyond the newest `retention_max_workflows` are deleted
    # every `retention_interval_sec`, `retention_batch_size` workflows per transaction.
    retention_older_than: str | float
    retention_max_workflows: int
    retention_interval_sec: float
    retention_batch_size: int
    # Schedules: how often the scheduler looks for schedules other processes created (seconds;
    # those of this process wake it at once), and the most ticks one backfill may start.
    scheduler_polling_interval_sec: float
    max_backfill_ticks: int
    # A sync workflow run on a workflow thread that waits (recv, get_event, sleep, a child's
    # result) longer than this many seconds gives its thread back and resumes by replay when
    # the wait ends; None: waits hold their thread (see _core/parking.py). Default 0.2.
    park_waits_after_sec: float | None
    # Graceful shutdown (see _services/shutdown.py): on SIGTERM or a server's shutdown, the
    # steps running get this long to finish (default 20); `install_signal_handlers: False`
    # leaves SIGTERM alone.
    shutdown_grace_period_sec: float
    install_signal_handlers: bool


_DEFAULT_PARK_AFTER_SEC = 0.2


def park_after_from(config: DBOSConfig) -> float | None:
    """The parking threshold in seconds (`park_waits_after_sec`), or None for no parking."""
    value = config.get("park_waits_after_sec", _DEFAULT_PARK_AFTER_SEC)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise DBOSInitializationError(
            f"Invalid park_waits_after_sec {value!r}: expected a number of seconds >= 0, or None"
        )
    return float(value)


_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_SQLITE_SYNC_MODES = ("FULL", "NORMAL", "EXTRA")


def validate_config(config: DBOSConfig) -> None:
    """Refuse a bad configuration at construction time, before any database is touched."""
    if not isinstance(config, dict):
        raise DBOSInitializationError("DBOS config must be a dict (DBOSConfig)")
    name = config.get("name")
    if not name or not isinstance(name, str):
        raise DBOSInitializationError("DBOS config is missing the required key 'name'")
    if not _NAME_PATTERN.match(name):
        raise DBOSInitializationError(
            f"Invalid application name {name!r}: use 1-64 letters, digits, '-' or '_'"
        )
    for key in ("executor_timeout_sec", "database_retry_timeout_sec", "shutdown_grace_period_sec"):
        value = config.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0
        ):
            raise DBOSInitializationError(f"Invalid {key} {value!r}: expected a number of seconds")
    install = config.get("install_signal_handlers")
    if install is not None and not isinstance(install, bool):
        raise DBOSInitializationError(
            f"Invalid install_signal_handlers {install!r}: expected True or False"
        )
    _validate_retention(config)
    _validate_scheduling(config)
    park_after_from(config)
    sync = config.get("sqlite_synchronous", "FULL")
    if str(sync).upper() not in _SQLITE_SYNC_MODES:
        raise DBOSInitializationError(
            f"Invalid sqlite_synchronous {sync!r}: expected one of {', '.join(_SQLITE_SYNC_MODES)}"
        )
    if config.get("system_database_listen_url"):
        listen_url_from(config, normalize_url(resolve_system_database_url(config)))


def _validate_scheduling(config: DBOSConfig) -> None:
    poll = config.get("scheduler_polling_interval_sec")
    if poll is not None and (
        isinstance(poll, bool) or not isinstance(poll, (int, float)) or not poll > 0
    ):
        raise DBOSInitializationError(
            f"Invalid scheduler_polling_interval_sec {poll!r}: expected a positive number of "
            "seconds"
        )
    max_ticks = config.get("max_backfill_ticks")
    if max_ticks is not None and (
        isinstance(max_ticks, bool) or not isinstance(max_ticks, int) or max_ticks < 1
    ):
        raise DBOSInitializationError(
            f"Invalid max_backfill_ticks {max_ticks!r}: expected a whole number of ticks >= 1"
        )


def listen_url_from(config: DBOSConfig, system_url: URL) -> URL | None:
    """`system_database_listen_url`: the system database reached directly, for LISTEN, where
    `system_database_url` goes through a transaction-pooling proxy. PostgreSQL only."""
    raw = config.get("system_database_listen_url")
    if not raw:
        return None
    if system_url.get_backend_name() != "postgresql":
        raise DBOSInitializationError(
            "system_database_listen_url is for a PostgreSQL system database; "
            f"system_database_url is {mask_url(system_url)}"
        )
    url = normalize_url(raw)
    if url.get_backend_name() != "postgresql":
        raise DBOSInitializationError(
            f"system_database_listen_url must be a PostgreSQL URL, got {mask_url(raw)}"
        )
    return url


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SEC = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: str | float, what: str = "duration") -> float:
    """Seconds from a number of seconds or a text like "30d", "12h", "90m", "45s", "500ms"."""
    if isinstance(value, bool):
        raise DBOSInitializationError(f"Invalid {what} {value!r}: expected e.g. 30d, 12h or 90s")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise DBOSInitializationError(
                f"Invalid {what} {value!r}: expected a number and a unit, e.g. 30d, 12h, 90m, 45s"
            )
        seconds = float(match.group(1)) * _UNIT_SEC[match.group(2) or "s"]
    if not seconds >= 0:
        raise DBOSInitializationError(f"Invalid {what} {value!r}: it must not be negative")
    return seconds


def _validate_retention(config: DBOSConfig) -> None:
    older = config.get("retention_older_than")
    if older is not None:
        parse_duration(older, "retention_older_than")
    for key in ("retention_max_workflows", "retention_batch_size"):
        value = config.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise DBOSInitializationError(f"Invalid {key} {value!r}: expected a whole number")
        if value is not None and value < (1 if key == "retention_batch_size" else 0):
            raise DBOSInitializationError(f"Invalid {key} {value!r}: it is too small")
    interval = config.get("retention_interval_sec")
    if interval is not None and (
        isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval > 0
    ):
        raise DBOSInitializationError(
            f"Invalid retention_interval_sec {interval!r}: expected a positive number of seconds"
        )


def resolve_system_database_url(config: DBOSConfig) -> str:
    """Pick the system database: explicit URL, else beside the app database, else a SQLite file.

    The SQLite default lives in the working directory and is named after the app, so a fresh
    checkout runs with no configuration at all.
    """
    url = config.get("system_database_url")
    if url:
        return url
    app_url = config.get("application_database_url") or config.get("database_url")
    if app_url:
        parsed = _parse(app_url)
        if parsed.get_backend_name() == "postgresql":
            return parsed.set(database=f"{parsed.database}_dbos_sys").render_as_string(
                hide_password=False
            )
        return app_url
    file_name = config["name"].replace("-", "_") + ".sqlite"
    return f"sqlite:///{file_name}"


def normalize_url(url: str) -> URL:
    """Parse a URL and pin PostgreSQL to the psycopg 3 driver, which the runtime is built on."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername != "postgresql+psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if not parsed.database:
            raise DBOSInitializationError(f"System database URL {mask_url(url)} names no database")
        return parsed
    if backend == "sqlite":
        if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
            parsed = parsed.set(drivername="sqlite")
        if not parsed.database or parsed.database == ":memory:":
            raise DBOSInitializationError(
                f"System database URL {mask_url(url)} must name a file: an in-memory SQLite "
                "database cannot survive a crash"
            )
        return parsed
    raise DBOSInitializationError(
        f"Unsupported system database URL {mask_url(url)}: use sqlite:///path or postgresql://..."
    )


def mask_url(url: str | URL) -> str:
    """Render a URL for messages and logs with its password hidden."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except Exception:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except Exception as exc:
        raise DBOSInitializationError(f"Invalid database URL {mask_url(url)}: {exc}") from exc


def executor_id_from(config: DBOSConfig) -> str:
    return config.get("executor_id") or os.environ.get("DBOS__VMID") or "local"
