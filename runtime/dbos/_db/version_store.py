"""Reads and writes of application versions (see `sql/versions.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from .records import now_ms
from .store import Store


class VersionStore(Store):
    def register_version(self, version_name: str, application_name: str | None) -> None:
        """Record a launched version (once: a relaunch keeps its place in the order)."""
        self.db.execute(
            self.sql.REGISTER_VERSION,
            {
                "version_id": str(uuid.uuid4()),
                "version_name": version_name,
                "now": now_ms(),
                "application_name": application_name,
            },
        )

    def list_versions(self) -> list[Sequence[Any]]:
        """(version_id, version_name, version_timestamp, created_at, application_name), the
        latest first."""
        return self.db.fetchall(self.sql.LIST_VERSIONS, {})

    def latest_version(self) -> Sequence[Any] | None:
        return self.db.fetchone(self.sql.LATEST_VERSION, {})

    def promote_version(self, version_name: str) -> bool:
        """Make a version the latest; False when no version has that name."""
        params = {"version_name": version_name, "now": now_ms()}
        return self.db.execute(self.sql.PROMOTE_VERSION, params) == 1
