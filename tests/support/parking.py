"""Launching DBOS for the parking tests: a short parking threshold, so a wait parks quickly."""

from __future__ import annotations

from dbos import DBOS


def launch_parking(system_database_url: str, name: str, park_after_sec: float | None) -> None:
    """A fresh DBOS on `system_database_url` whose waits park after `park_after_sec` (None:
    never), launched; the caller destroys it."""
    DBOS.destroy()
    DBOS(
        config={
            "name": name,
            "system_database_url": system_database_url,
            "log_level": "WARNING",
            "park_waits_after_sec": park_after_sec,
        }
    )
    DBOS.launch()
