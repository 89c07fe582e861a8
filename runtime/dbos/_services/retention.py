"""Automatic retention: with `retention_older_than` and/or `retention_max_workflows` in the
config, each process collects finished workflows every `retention_interval_sec` (jittered, so
workers sharing a database do not all start at once; two collecting together only find each
other's rows gone). `DBOS.destroy()` stops it between two batches.
"""

from __future__ import annotations

import random
import threading

from .._config import DBOSConfig, parse_duration
from .._core.retention import garbage_collect
from .._core.runtime import Runtime, logger
from .._db.records import now_ms
from .._db.retention_store import DEFAULT_BATCH_SIZE

DEFAULT_INTERVAL_SEC = 3600.0
_FIRST_RUN_MAX_SEC = 30.0


class RetentionService:
    def __init__(self, runtime: Runtime, config: DBOSConfig) -> None:
        older = config.get("retention_older_than")
        self._older_than_ms = None if older is None else int(parse_duration(older) * 1000)
        self._keep = config.get("retention_max_workflows")
        self._interval = float(config.get("retention_interval_sec") or DEFAULT_INTERVAL_SEC)
        self._batch_size = int(config.get("retention_batch_size") or DEFAULT_BATCH_SIZE)
        self._runtime = runtime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dbos-retention", daemon=True)
        self._thread.start()

    @staticmethod
    def wanted(config: DBOSConfig) -> bool:
        return (
            config.get("retention_older_than") is not None
            or config.get("retention_max_workflows") is not None
        )

    def _loop(self) -> None:
        delay = min(self._interval, _FIRST_RUN_MAX_SEC) * random.uniform(0.5, 1.0)
        while not self._stop.wait(delay):
            self.collect_once()
            delay = self._interval * random.uniform(0.9, 1.1)

    def collect_once(self) -> int:
        runtime = self._runtime
        try:
            deleted = garbage_collect(
                runtime.sysdb,
                [runtime.app_db] if runtime.app_db is not None else [],
                cutoff_epoch_ms=(
                    None if self._older_than_ms is None else now_ms() - self._older_than_ms
                ),
                rows_threshold=self._keep,
                batch_size=self._batch_size,
                stop=self._stop,
            )
        except Exception as exc:  # the next round tries again; the database may be back
            if not self._stop.is_set():
                logger.warning("Workflow retention failed: %s", exc)
            return 0
        if deleted:
            logger.info("Workflow retention deleted %d finished workflows", deleted)
        return deleted

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
