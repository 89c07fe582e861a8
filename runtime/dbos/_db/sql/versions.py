"""Statements on application versions (`application_versions`): registered at launch, listed,
and promoted to latest; the latest one's processes take version-less queued work."""

from __future__ import annotations

from typing import Final

REGISTER_VERSION: Final = """
INSERT INTO {s}application_versions (
    version_id, version_name, version_timestamp, created_at, application_name
) VALUES (:version_id, :version_name, :now, :now, :application_name)
ON CONFLICT (version_name) DO NOTHING
"""

_VERSION_COLUMNS = "version_id, version_name, version_timestamp, created_at, application_name"

# Newest first; ties (two launches in one millisecond) in a fixed order.
LIST_VERSIONS: Final = f"""
SELECT {_VERSION_COLUMNS} FROM {{s}}application_versions
ORDER BY version_timestamp DESC, created_at DESC, version_name
"""

LATEST_VERSION: Final = f"""
SELECT {_VERSION_COLUMNS} FROM {{s}}application_versions
ORDER BY version_timestamp DESC, created_at DESC, version_name LIMIT 1
"""

PROMOTE_VERSION: Final = """
UPDATE {s}application_versions SET version_timestamp = :now WHERE version_name = :version_name
"""
