"""Reads and writes of the `queues` table: registering, changing, listing and deleting queues."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .records import QUEUES_CHANGED, now_ms
from .store import Store


class QueueBusy(Exception):
    """A delete met a queue still holding work; nothing was deleted."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__(counts)
        self.counts = counts


class QueueTableStore(Store):
    def register_queue(
        self, settings: Mapping[str, Any], *, update_existing: bool, application_name: str | None
    ) -> bool:
        """Insert the queue's row, or (with `update_existing`) replace its settings; True when
        the row is new."""

        def attempt(_number: int) -> bool:
            params = dict(settings) | {
                "queue_id": str(uuid.uuid4()),
                "application_name": application_name,
                "now": now_ms(),
            }
            with self.db.transaction() as cur:
                cur.execute(self.sql.QUEUE_EXISTS, {"name": settings["name"]})
                existed = cur.fetchone() is not None
                sql = self.sql.REGISTER_QUEUE if update_existing else self.sql.REGISTER_QUEUE_IF_NEW
                cur.execute(sql, params)
            return not existed

        inserted = self.db.retrying(attempt)
        self.db.wake(QUEUES_CHANGED)
        return inserted

    def record_declared_queue(self, settings: Mapping[str, Any]) -> None:
        """A queue declared in code, recorded so that clients and the admin tools see it."""
        params = dict(settings) | {
            "queue_id": str(uuid.uuid4()),
            "application_name": None,
            "now": now_ms(),
        }
        self.db.execute(self.sql.RECORD_DECLARED_QUEUE, params)

    def update_queue(self, settings: Mapping[str, Any]) -> bool:
        """Replace a registered queue's settings; False when there is no such queue."""
        done = self.db.execute(self.sql.UPDATE_QUEUE_SETTINGS, dict(settings) | {"now": now_ms()})
        if done:
            self.db.wake(QUEUES_CHANGED)
        return done == 1

    def modify_queue(
        self, name: str, change: Callable[[Sequence[Any]], Mapping[str, Any]]
    ) -> Mapping[str, Any] | None:
        """Read a registered queue's row, apply `change` (which validates, and may raise:
        nothing is written then; it returns the new settings) and write the result, in one
        transaction, so two processes changing different settings at once both keep their
        change. None: no such queue."""

        def attempt(_number: int) -> Mapping[str, Any] | None:
            with self.db.transaction() as cur:
                cur.execute(self.sql.SELECT_QUEUE_FOR_UPDATE, {"name": name})
                row = cur.fetchone()
                if row is None:
                    return None
                updated = change(row)
                cur.execute(self.sql.UPDATE_QUEUE_SETTINGS, dict(updated) | {"now": now_ms()})
                return updated

        updated = self.db.retrying(attempt)
        if updated is not None:
            self.db.wake(QUEUES_CHANGED)
        return updated

    def queue_row(self, name: str) -> Sequence[Any] | None:
        return self.db.fetchone(self.sql.SELECT_QUEUE, {"name": name})

    def queue_rows(self) -> list[Sequence[Any]]:
        return self.db.fetchall(self.sql.SELECT_QUEUES, {})

    def registered_queue_rows(self) -> list[Sequence[Any]]:
        return self.db.fetchall(self.sql.SELECT_REGISTERED_QUEUES, {})

    def latest_application_version(self) -> str | None:
        row = self.db.fetchone(self.sql.LATEST_APPLICATION_VERSION, {})
        return None if row is None or row[0] is None else str(row[0])

    def queue_work(self, name: str) -> dict[str, int]:
        """How many of the queue's workflows wait or run, by status."""
        return {str(r[0]): int(r[1]) for r in self.db.fetchall(self.sql.QUEUE_WORK, {"name": name})}

    def queue_work_ids(self, name: str) -> list[str]:
        return [str(r[0]) for r in self.db.fetchall(self.sql.QUEUE_WORK_IDS, {"name": name})]

    def delete_idle_queue(self, name: str) -> bool:
        """Delete the queue's row unless it holds work (raises QueueBusy with the counts);
        False when there was no such queue."""
        if self.db.execute(self.sql.DELETE_IDLE_QUEUE, {"name": name}):
            self.db.wake(QUEUES_CHANGED)
            return True
        if self.db.fetchone(self.sql.QUEUE_EXISTS, {"name": name}) is None:
            return False
        counts = self.queue_work(name)
        if counts:
            raise QueueBusy(counts)
        return self.delete_idle_queue(name)  # its work finished meanwhile
