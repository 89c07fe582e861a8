"""A system database written by upstream DBOS 2.x opens here, in-flight work and all.

Each fixture is a database a released upstream left behind (tests/upstream_fixtures/, one per
schema version the 2.x line shipped): finished workflows, one killed in a durable sleep, one
blocked in recv, one asleep with a message waiting for it, queued ones, all written by
upstream's own code. Loaded into a fresh database, converted here, then finished here.
"""

from __future__ import annotations

import base64
import pickle
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import query_system_sql, run_system_sql
from programs import upstream_app
from support.upstream_db import RELEASES, load

from dbos import DBOS, DBOSConfig, PickleSerializer
from dbos._config import normalize_url
from dbos._db.system import SystemDatabase
from dbos.error import DBOSDeserializationError, DBOSInitializationError

LATEST = RELEASES[-1]


@pytest.fixture
def upstream_url(system_database_url: str) -> Iterator[str]:
    yield system_database_url
    DBOS.destroy()


def _in_flight_version(url: str) -> str:
    """The application version upstream's in-flight work belongs to (`dbos migrate` reports
    it; docs/upstream/moving.md tells a migrating team to pin it)."""
    rows = query_system_sql(
        url,
        "SELECT application_version FROM {prefix}workflow_status "
        "WHERE workflow_uuid = 'sleeper-wf'",
    )
    return str(rows[0][0])


def _launch(url: str, version: str, pickle_opt_in: bool) -> None:
    DBOS.destroy()
    config: DBOSConfig = {
        "name": "upstream-fixture",
        "system_database_url": url,
        "application_version": version,
        "log_level": "WARNING",
    }
    if pickle_opt_in:
        config["serializer"] = PickleSerializer()
    DBOS(config=config)
    DBOS.launch()


def _result(workflow_id: str, within_sec: float = 60.0) -> Any:
    """The workflow's outcome once it has one (a test fails, never hangs, when it does not)."""
    deadline = time.monotonic() + within_sec
    while True:
        status = DBOS.get_workflow_status(workflow_id)
        if status is not None and status.status in ("SUCCESS", "ERROR", "CANCELLED"):
            return DBOS.retrieve_workflow(workflow_id).get_result()
        if time.monotonic() > deadline:
            raise AssertionError(f"{workflow_id} still {status and status.status}")
        time.sleep(0.05)


@pytest.mark.parametrize("release", RELEASES)
def test_upstream_database_converts_and_finishes_its_work(
    upstream_url: str, backend: str, release: str
) -> None:
    load(release, backend, upstream_url)
    version = _in_flight_version(upstream_url)
    started = time.monotonic()
    _launch(upstream_url, version, pickle_opt_in=True)
    assert upstream_app.SLEEP_SEC  # the app's workflows are registered

    # Finished work reads back: result, error, event, stream.
    assert DBOS.get_workflow_status("finished-wf").status == "SUCCESS"  # type: ignore[union-attr]
    assert _result("finished-wf") == {"order": "alpha", "total": 42}
    assert DBOS.get_event("finished-wf", "status", timeout_seconds=0) == "shipped"
    assert list(DBOS.read_stream("finished-wf", "progress")) == [0, 1, 2]
    with pytest.raises(ValueError, match="refused: no stock"):
        _result("failing-wf")
    listed = {w.workflow_id: w.status for w in DBOS.list_workflows()}
    assert listed["finished-wf"] == "SUCCESS" and listed["failing-wf"] == "ERROR"

    # In flight: killed in a durable sleep long past, so it finishes at once from its record.
    assert _result("sleeper-wf") == "slept-28"
    # The message sent while it slept is received.
    assert _result("late-receiver-wf") == "got:hello"
    # Blocked in recv: a message sent now ends the wait.
    DBOS.send("waiter-wf", "card-ok", topic="payment")
    assert _result("waiter-wf") == "paid:card-ok"
    # Queued by a client with no worker running: dequeued and run here.
    assert _result("queued-wf") == 11
    assert time.monotonic() - started < upstream_app.SLEEP_SEC  # no sleep began afresh

    steps = DBOS.list_workflow_steps("sleeper-wf")
    assert [s["function_name"] for s in steps] == ["double", "DBOS.sleep", "double"]
    if _wrote_portable(upstream_url):  # upstream 2.14 on: its portable JSON format
        assert _result("portable-wf") == {"name": "bob", "items": [1, 2, 3]}
        assert DBOS.get_event("portable-wf", "greeting", timeout_seconds=0) == "hello bob"
        assert _result("queued-portable-wf") == 13


def _wrote_portable(url: str) -> bool:
    return bool(
        query_system_sql(
            url, "SELECT 1 FROM {prefix}workflow_status WHERE workflow_uuid = 'portable-wf'"
        )
    )


@pytest.mark.parametrize("release", [RELEASES[0], LATEST])
def test_nothing_is_unpickled_without_the_opt_in(
    upstream_url: str, backend: str, release: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(release, backend, upstream_url)
    version = _in_flight_version(upstream_url)
    unpickled: list[object] = []

    def refuse(*args: object, **kwargs: object) -> object:
        unpickled.append(args)
        raise AssertionError("unpickled without the opt-in")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    _launch(upstream_url, version, pickle_opt_in=False)

    listed = {w.workflow_id: w.status for w in DBOS.list_workflows()}
    assert listed["finished-wf"] == "SUCCESS"
    with pytest.raises(DBOSDeserializationError, match=r"PickleSerializer\(\)"):
        _result("finished-wf")
    if _wrote_portable(upstream_url):  # portable JSON needs no opt-in
        assert _result("portable-wf") == {"name": "bob", "items": [1, 2, 3]}
        assert _result("queued-portable-wf") == 13
    # In-flight work with pickled inputs is not run, and not failed: it waits for a process
    # that opted in.
    time.sleep(0.5)
    DBOS.destroy()
    assert not unpickled
    statuses = dict(
        query_system_sql(
            upstream_url,
            "SELECT workflow_uuid, status FROM {prefix}workflow_status "
            "WHERE workflow_uuid IN ('sleeper-wf', 'late-receiver-wf', 'queued-wf')",
        )
    )
    assert statuses == {
        "sleeper-wf": "PENDING",
        "late-receiver-wf": "PENDING",
        "queued-wf": statuses["queued-wf"],
    }
    assert statuses["queued-wf"] in ("ENQUEUED", "PENDING")

    monkeypatch.undo()
    _launch(upstream_url, version, pickle_opt_in=True)
    assert _result("sleeper-wf") == "slept-28"
    assert _result("queued-wf") == 11


def test_a_database_upstream_still_writes_to_is_refused(upstream_url: str, backend: str) -> None:
    load(LATEST, backend, upstream_url)
    now = int(time.time() * 1000)
    run_system_sql(
        upstream_url,
        f"UPDATE {{prefix}}workflow_status SET updated_at = {now} "
        "WHERE workflow_uuid = 'waiter-wf'",
    )
    sysdb = SystemDatabase(normalize_url(upstream_url))
    try:
        with pytest.raises(DBOSInitializationError, match=r"may still be using.*--force"):
            sysdb.setup.initialize()
    finally:
        sysdb.dispose()
    # Refused untouched: still upstream's.
    assert query_system_sql(upstream_url, "SELECT version FROM {prefix}dbos_migrations") == [(108,)]
    sysdb = SystemDatabase(normalize_url(upstream_url))
    sysdb.setup.convert_upstream_in_use = True  # dbos migrate --force
    try:
        sysdb.setup.initialize()
        assert sysdb.setup.converted is not None and sysdb.setup.converted.workflows >= 7
    finally:
        sysdb.dispose()


def test_upstream_database_is_refused_without_run_migrations(
    upstream_url: str, backend: str
) -> None:
    load(LATEST, backend, upstream_url)
    sysdb = SystemDatabase(normalize_url(upstream_url))
    try:
        with pytest.raises(DBOSInitializationError, match="upstream DBOS .* `dbos migrate`"):
            sysdb.setup.initialize(run_migrations=False)
    finally:
        sysdb.dispose()


def test_converted_database_keeps_every_row(upstream_url: str, backend: str) -> None:
    load(LATEST, backend, upstream_url)
    tables = ("workflow_status", "operation_outputs", "workflow_events", "streams")
    before = {t: _count(upstream_url, t) for t in tables}
    messages = query_system_sql(
        upstream_url,
        "SELECT message_uuid, destination_uuid, topic, message FROM {prefix}notifications",
    )
    sysdb = SystemDatabase(normalize_url(upstream_url))
    try:
        sysdb.setup.initialize()
    finally:
        sysdb.dispose()
    assert {t: _count(upstream_url, t) for t in tables} == before
    assert (
        query_system_sql(
            upstream_url,
            "SELECT message_uuid, destination_uuid, topic, message FROM {prefix}notifications",
        )
        == messages
    )
    # A queue registered at run time upstream is one here (not one declared in code).
    queues = query_system_sql(
        upstream_url,
        "SELECT name, concurrency, declared_in_code FROM {prefix}queues "
        "WHERE name = 'registered_queue'",
    )
    assert [(n, c, bool(d)) for n, c, d in queues] == [("registered_queue", 3, False)]
    # Upstream's schedules are ours (migration 8), its table gone once carried over.
    carried = query_system_sql(
        upstream_url, "SELECT schedule_name, schedule FROM {prefix}workflow_schedules"
    )
    assert carried == [("nightly", "0 3 * * *")]
    assert "upstream_workflow_schedules" not in _tables(upstream_url)
    # A second open finds our schema: nothing more to do.
    engine = sa.create_engine(normalize_url(upstream_url))
    engine.dispose()
    sysdb = SystemDatabase(normalize_url(upstream_url))
    try:
        sysdb.setup.initialize()
        assert sysdb.setup.converted is None
    finally:
        sysdb.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(normalize_url(url))
    try:
        schema = "dbos" if engine.dialect.name == "postgresql" else None
        return set(sa.inspect(engine).get_table_names(schema=schema))
    finally:
        engine.dispose()


# Schedules as data arrived in upstream 2.13: the first fixture with a `workflow_schedules` row
# (its table without the later columns) and the latest.
WITH_SCHEDULES = [
    next(r for r in RELEASES if tuple(int(x) for x in r.split(".")) >= (2, 13)),
    LATEST,
]


@pytest.mark.parametrize("release", WITH_SCHEDULES)
def test_upstream_schedules_are_ours_and_fire_without_pickle(
    upstream_url: str, backend: str, release: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(release, backend, upstream_url)
    # A second schedule whose context upstream pickled (its default serializer): staged as
    # upstream's create_schedule writes it, before the conversion.
    tenant = base64.b64encode(pickle.dumps({"tenant": 7})).decode()
    run_system_sql(
        upstream_url,
        "INSERT INTO {prefix}workflow_schedules (schedule_id, schedule_name, workflow_name, "
        "schedule, status, context) VALUES "
        f"('s-tenant', 'tenant-7', 'nightly', '0 4 * * *', 'PAUSED', '{tenant}')",
    )
    version = _in_flight_version(upstream_url)

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("unpickled without the opt-in")

    monkeypatch.setattr(pickle, "loads", refuse)
    _launch(upstream_url, version, pickle_opt_in=False)

    schedules = {s["schedule_name"]: s for s in DBOS.list_schedules()}
    assert set(schedules) == {"nightly", "tenant-7"}
    nightly = schedules["nightly"]
    assert (nightly["workflow_name"], nightly["schedule"], nightly["status"]) == (
        "nightly",
        "0 3 * * *",
        "ACTIVE",
    )
    # Upstream's default context, a pickled None, is ours: no opt-in needed to read it.
    assert nightly["context"] is None
    # Any other pickled context keeps its format: shown as stored here, never unpickled.
    assert schedules["tenant-7"]["status"] == "PAUSED"
    assert schedules["tenant-7"]["context"] == tenant
    formats = dict(
        query_system_sql(
            upstream_url,
            "SELECT schedule_name, context_serialization FROM {prefix}workflow_schedules",
        )
    )
    assert formats == {"nightly": "dbos_json", "tenant-7": "py_pickle"}

    # The scheduler takes the carried schedule up: its next tick is planned ...
    next_3am = datetime.now(timezone.utc).replace(hour=3, minute=0, second=0, microsecond=0)
    if next_3am <= datetime.now(timezone.utc):
        next_3am += timedelta(days=1)
    deadline = time.monotonic() + 30
    while _next_tick_ms(upstream_url, "nightly") != int(next_3am.timestamp() * 1000):
        assert time.monotonic() < deadline, _next_tick_ms(upstream_url, "nightly")
        time.sleep(0.1)
    # ... and its ticks run here: the last 03:00 UTC, backfilled, with upstream's context.
    end = datetime.now(timezone.utc) - timedelta(seconds=1)
    handles = DBOS.backfill_schedule("nightly", end - timedelta(days=1), end)
    assert len(handles) == 1
    assert handles[0].get_result() is None
    tick = handles[0].get_status()
    assert tick.status == "SUCCESS" and tick.schedule_name == "nightly"
    assert tick.input is not None and tick.input["args"][1] is None
    assert [w.workflow_id for w in DBOS.list_workflows(schedule_name="nightly")] == [
        handles[0].workflow_id
    ]
    assert "upstream_workflow_schedules" not in _tables(upstream_url)


def _next_tick_ms(url: str, name: str) -> int | None:
    rows = query_system_sql(
        url,
        f"SELECT next_tick_at FROM {{prefix}}workflow_schedules WHERE schedule_name = '{name}'",
    )
    return None if rows[0][0] is None else int(str(rows[0][0]))


def test_upstream_application_versions_are_ours_after_the_conversion(
    upstream_url: str, backend: str
) -> None:
    """Upstream's application versions carry over with their IDs, names and times: listed
    here, the latest of them still the latest until a version launches here, and promotable
    back by name; the kept-aside copy is gone."""
    load(LATEST, backend, upstream_url)
    columns = "version_id, version_name, version_timestamp, created_at, application_name"
    theirs = query_system_sql(
        upstream_url,
        f"SELECT {columns} FROM {{prefix}}application_versions ORDER BY version_timestamp DESC",
    )
    assert theirs, "the fixture holds upstream's own application versions"
    upstream_latest = str(theirs[0][1])
    _launch(upstream_url, "v-after-upstream", pickle_opt_in=False)
    listed = DBOS.list_application_versions()
    assert [v["version_name"] for v in listed] == [
        "v-after-upstream",
        *(str(r[1]) for r in theirs),
    ]
    assert [tuple(v.values()) for v in listed[1:]] == [
        (str(a), str(b), int(c), int(d), e) for a, b, c, d, e in theirs
    ]
    assert DBOS.get_latest_application_version()["version_name"] == "v-after-upstream"
    DBOS.set_latest_application_version(upstream_latest)
    assert DBOS.get_latest_application_version()["version_name"] == upstream_latest
    assert _count(upstream_url, "application_versions") == len(theirs) + 1
    assert "upstream_application_versions" not in _tables(upstream_url)


def _count(url: str, table: str) -> int:
    return int(str(query_system_sql(url, f"SELECT COUNT(*) FROM {{prefix}}{table}")[0][0]))


def test_without_the_pinned_version_work_waits_and_the_log_names_its_version(
    upstream_url: str, backend: str, dbos_log: pytest.LogCaptureFixture
) -> None:
    load(LATEST, backend, upstream_url)
    version = _in_flight_version(upstream_url)
    _launch(upstream_url, "a-new-version", pickle_opt_in=True)
    assert _result("queued-wf") == 11  # enqueued without a version: any worker takes it
    status = DBOS.get_workflow_status("sleeper-wf")
    assert status is not None and status.status == "PENDING"
    logged = dbos_log.text
    assert f"'{version}': 3 PENDING" in logged  # the conversion's report
    assert f"3 of '{version}'" in logged and "application_version" in logged  # recovery's
    _launch(upstream_url, version, pickle_opt_in=True)
    assert _result("sleeper-wf") == "slept-28"


def test_a_pre_2_schema_is_refused_with_the_way_forward(upstream_url: str, backend: str) -> None:
    if backend == "postgres":
        from dbos._db.databases import create_database_if_missing

        create_database_if_missing(normalize_url(upstream_url), "system database")
        run_system_sql(upstream_url, "CREATE SCHEMA dbos")
    run_system_sql(
        upstream_url, "CREATE TABLE {prefix}workflow_status (workflow_uuid TEXT PRIMARY KEY)"
    )
    sysdb = SystemDatabase(normalize_url(upstream_url))
    try:
        with pytest.raises(DBOSInitializationError, match="before 2.0.*only upstream 2.x"):
            sysdb.setup.initialize()
    finally:
        sysdb.dispose()
