"""Application versions: each launch registers its version (once), the latest is the last one
launched or the one promoted by `set_latest_application_version`, and only the latest
version's processes take version-less queued workflows (a client's enqueues), as upstream's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from dbos import DBOS, DBOSClient, Queue, SetWorkflowID
from dbos.error import DBOSException

versions_queue = Queue("versions-queue")


@DBOS.workflow()
def versioned_work(x: int) -> int:
    return x * 2


@DBOS.workflow()
def reads_latest() -> str:
    return DBOS.get_latest_application_version()["version_name"]


def _launch(url: str, version: str) -> None:
    DBOS.destroy()
    DBOS(
        config={
            "name": "versions-app",
            "system_database_url": url,
            "application_version": version,
            "log_level": "WARNING",
        }
    )
    DBOS.launch()


@pytest.fixture
def url(system_database_url: str) -> Iterator[str]:
    yield system_database_url
    DBOS.destroy()


def _names() -> list[str]:
    return [v["version_name"] for v in DBOS.list_application_versions()]


def test_launches_register_versions_latest_first(url: str) -> None:
    _launch(url, "v1")
    first = DBOS.get_latest_application_version()
    assert first["version_name"] == "v1"
    assert first["application_name"] == "versions-app"
    assert first["created_at"] == first["version_timestamp"] > 0
    time.sleep(0.01)
    _launch(url, "v2")
    assert _names() == ["v2", "v1"]
    time.sleep(0.01)
    _launch(url, "v1")  # a relaunch keeps its place: promoting is explicit
    assert _names() == ["v2", "v1"]

    DBOS.set_latest_application_version("v1")
    latest = DBOS.get_latest_application_version()
    assert latest["version_name"] == "v1"
    assert latest["created_at"] == first["created_at"]  # only the order moved
    assert latest["version_timestamp"] > first["version_timestamp"]
    assert _names() == ["v1", "v2"]


def test_bad_version_names_are_refused(url: str) -> None:
    _launch(url, "v1")
    with pytest.raises(DBOSException, match="No application version named 'v9'"):
        DBOS.set_latest_application_version("v9")
    with pytest.raises(ValueError, match="non-empty string"):
        DBOS.set_latest_application_version("")
    assert _names() == ["v1"]


def test_a_client_and_the_async_variants_see_and_set_the_same_versions(url: str) -> None:
    _launch(url, "v1")
    time.sleep(0.01)
    _launch(url, "v2")
    client = DBOSClient(system_database_url=url)
    try:
        assert [v["version_name"] for v in client.list_application_versions()] == ["v2", "v1"]
        client.set_latest_application_version("v1")
        assert client.get_latest_application_version()["version_name"] == "v1"

        async def through_async() -> tuple[str, list[str]]:
            await DBOS.set_latest_application_version_async("v2")
            latest = await client.get_latest_application_version_async()
            listed = await DBOS.list_application_versions_async()
            return latest["version_name"], [v["version_name"] for v in listed]

        assert asyncio.run(through_async()) == ("v2", ["v2", "v1"])
    finally:
        client.destroy()


def test_in_a_workflow_reading_the_latest_version_is_a_step(url: str) -> None:
    _launch(url, "v1")
    with SetWorkflowID("reads-latest"):
        assert reads_latest() == "v1"
    steps = DBOS.list_workflow_steps("reads-latest")
    assert [s["function_name"] for s in steps] == ["DBOS.getLatestApplicationVersion"]


def test_with_no_version_launched_the_latest_is_a_clear_error(url: str) -> None:
    from dbos._config import normalize_url
    from dbos._db.system import SystemDatabase

    sysdb = SystemDatabase(normalize_url(url))  # the schema, as `dbos migrate` makes it
    sysdb.setup.initialize()
    sysdb.dispose()
    client = DBOSClient(system_database_url=url)
    try:
        assert client.list_application_versions() == []
        with pytest.raises(DBOSException, match="No application versions found"):
            client.get_latest_application_version()
    finally:
        client.destroy()


def test_only_the_latest_version_takes_version_less_queued_work(url: str) -> None:
    _launch(url, "v2")
    time.sleep(0.01)
    _launch(url, "v1")  # launched last: v1 is the latest
    DBOS.set_latest_application_version("v2")  # ... until v2 is promoted (a roll-forward)
    client = DBOSClient(system_database_url=url)
    try:
        options = {"queue_name": "versions-queue", "workflow_name": "versioned_work"}
        versionless = client.enqueue(options, 1)  # type: ignore[arg-type]
        pinned = client.enqueue(options | {"app_version": "v1"}, 2)  # type: ignore[arg-type]
        assert pinned.get_result() == 4  # this process claims what is its version's ...
        time.sleep(1.5)  # ... a few claim rounds, in which it leaves the version-less one
        assert versionless.get_status().status == "ENQUEUED"
        DBOS.set_latest_application_version("v1")  # now it is the latest: it takes it
        assert versionless.get_result() == 2
        assert versionless.get_status().app_version == "v1"
    finally:
        client.destroy()
