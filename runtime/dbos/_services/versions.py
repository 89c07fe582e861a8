"""Application versions at launch: this process's version is registered (once: a relaunch keeps
its place), and a process that is not the latest says so, since it will leave version-less
queued work (a client's enqueues) to the latest version's processes."""

from __future__ import annotations

from .._core.runtime import Runtime, logger


def register_version(runtime: Runtime, application_name: str | None) -> None:
    runtime.sysdb.versions.register_version(runtime.app_version, application_name)
    latest = runtime.sysdb.versions.latest_version()
    if latest is not None and latest[1] != runtime.app_version:
        logger.warning(
            "Application version %r is not the latest one (%r): its processes take the "
            "version-less queued workflows; DBOS.set_latest_application_version(%r) changes that",
            runtime.app_version,
            latest[1],
            runtime.app_version,
        )
