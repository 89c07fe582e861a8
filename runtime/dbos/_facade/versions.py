"""Application versions: list them, read and set the latest one (whose processes take the
version-less queued workflows, a client's enqueues). One definition each, served by `DBOS`
(recorded as a step when called from a workflow) and `DBOSClient`, sync and async."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._error import DBOSException
from .._status import VersionInfo
from .operations import Caller, operation


def _info(row: Sequence[Any]) -> VersionInfo:
    return {
        "version_id": str(row[0]),
        "version_name": str(row[1]),
        "version_timestamp": int(row[2]),
        "created_at": int(row[3]),
        "application_name": None if row[4] is None else str(row[4]),
    }


@operation("DBOS.listApplicationVersions")
def _list_application_versions(caller: Caller) -> list[VersionInfo]:
    """Every version launched on this system database, the latest first."""
    return [_info(row) for row in caller.runtime.sysdb.versions.list_versions()]


@operation("DBOS.getLatestApplicationVersion")
def _get_latest_application_version(caller: Caller) -> VersionInfo:
    """The latest version: the last one launched, or promoted by
    `set_latest_application_version`."""
    row = caller.runtime.sysdb.versions.latest_version()
    if row is None:
        raise DBOSException("No application versions found")
    return _info(row)


@operation("DBOS.setLatestApplicationVersion")
def _set_latest_application_version(caller: Caller, version_name: str) -> None:
    """Make `version_name` the latest version (a rollback: its processes take the
    version-less queued work from now on). It must have been launched here before."""
    if not isinstance(version_name, str) or not version_name:
        raise ValueError(f"version_name must be a non-empty string, got {version_name!r}")
    if not caller.runtime.sysdb.versions.promote_version(version_name):
        raise DBOSException(
            f"No application version named {version_name!r} has been launched on this "
            "system database"
        )


class Versions:
    """The application-version surface shared by `DBOS` and `DBOSClient`."""

    list_application_versions = _list_application_versions
    list_application_versions_async = _list_application_versions.asynchronous()
    get_latest_application_version = _get_latest_application_version
    get_latest_application_version_async = _get_latest_application_version.asynchronous()
    set_latest_application_version = _set_latest_application_version
    set_latest_application_version_async = _set_latest_application_version.asynchronous()
