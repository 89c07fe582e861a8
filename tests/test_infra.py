"""Tests of the test infrastructure itself: servers/pg_cluster.py and the conftest fixtures."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from conftest import (
    POSTGRES_URL_ENV,
    admin_conninfo,
    database_exists,
    postgres_or_skip,
    throwaway_database_url,
)
from servers.pg_cluster import ThrowawayCluster, find_pg_bindir, sweep_stale_dirs
from sqlalchemy.engine import make_url
from support.parallel import WHOLE_SUITE_WORKERS

TESTS_DIR = Path(__file__).resolve().parent
TEST_DB_NAME = re.compile(r"^dbos_test_[0-9a-f]{12}$")

needs_pg_binaries = pytest.mark.skipif(
    find_pg_bindir() is None and os.environ.get("CI") != "true",
    reason="PostgreSQL server binaries not installed",
)


def _server(postgres_server_url: str | None) -> str:
    return postgres_or_skip(postgres_server_url)


def _process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (exited, or a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _wait_until(cond: Callable[[], bool], timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


# --------------------------------------------------------------------------- server
def test_server_accepts_connections(postgres_server_url: str | None) -> None:
    server_url = _server(postgres_server_url)
    with psycopg.connect(admin_conninfo(server_url), autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        is_super = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert is_super.fetchone() == (True,)
        if not os.environ.get(POSTGRES_URL_ENV):  # our throwaway cluster: check its settings
            assert conn.execute("SHOW fsync").fetchone() == ("on",)
            assert conn.execute("SHOW max_connections").fetchone() == ("300",)
            assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
    # The URL is a working SQLAlchemy URL (postgresql+psycopg://dbos@127.0.0.1:PORT/postgres).
    engine = sa.create_engine(server_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


@needs_pg_binaries
def test_cluster_lifecycle_fsync_off_and_idempotent_stop() -> None:
    cluster = ThrowawayCluster(fsync=False)
    try:
        assert cluster.is_running()
        assert re.fullmatch(r"postgresql\+psycopg://dbos@127\.0\.0\.1:\d+/postgres", cluster.url)
        assert cluster.base_dir is not None and cluster.base_dir.is_dir()
        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
            sock_dir = conn.execute("SHOW unix_socket_directories").fetchone()
            assert sock_dir == (str(cluster.socket_dir),)
        # The unix socket in the temp dir works too.
        with psycopg.connect(
            host=str(cluster.socket_dir), port=cluster.port, user="dbos", dbname="postgres"
        ) as conn:
            assert conn.execute("SELECT 2").fetchone() == (2,)
        pid = cluster.pid
        assert pid is not None
    finally:
        cluster.stop()
    assert _process_gone(pid)
    assert not cluster.base_dir.exists()
    assert not cluster.is_running()
    cluster.stop()  # idempotent
    cluster.stop(mode="immediate")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.conninfo(), connect_timeout=2)


@needs_pg_binaries
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_server_dies_with_a_killed_owner_and_its_dir_is_swept(tmp_path: Path) -> None:
    # The owner's cluster lives under a temp root of this test's own (short: the server's unix
    # socket path has a length limit), so a cluster another pytest worker starts meanwhile, which
    # sweeps the default temp dir, cannot sweep this one first.
    tmp_root = Path(tempfile.mkdtemp(prefix="dbos-sweep-"))
    tmp_root.chmod(0o755)  # as root, the server runs as another user and must reach its dir
    script = tmp_path / "owner.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, signal, sys
            sys.path.insert(0, {str(TESTS_DIR)!r})
            from servers.pg_cluster import ThrowawayCluster
            c = ThrowawayCluster()
            print(c.pid, c.base_dir, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no finally
            """
        )
    )
    try:
        out = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "TMPDIR": str(tmp_root)},
        )
        assert out.returncode == -signal.SIGKILL, out.stderr
        pid_s, base_dir_s = out.stdout.split()
        pid, base_dir = int(pid_s), Path(base_dir_s)
        assert base_dir.parent == tmp_root
        assert _wait_until(lambda: _process_gone(pid)), "postmaster outlived its killed owner"
        assert base_dir.exists()  # nobody cleaned up ...
        assert base_dir in sweep_stale_dirs(str(tmp_root))  # ... until the next sweep
        assert not base_dir.exists()
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)


@needs_pg_binaries
def test_cli_prints_url_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(TESTS_DIR / "servers" / "pg_cluster.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        url = proc.stdout.readline().strip()
        info = proc.stderr.readline()
        m = re.search(r"data dir (\S+);", info)
        assert m, info
        data_dir = Path(m.group(1))
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
        finally:
            engine.dispose()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not data_dir.exists()
        assert not data_dir.parent.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- fixtures
def test_system_database_url_is_per_test(
    system_database_url: str, backend: str, tmp_path: Path, postgres_server_url: str | None
) -> None:
    url = make_url(system_database_url)
    if backend == "sqlite":
        assert system_database_url == f"sqlite:///{tmp_path}/dbos_sys.sqlite"
        assert url.database is not None
        assert Path(url.database).parent == tmp_path
        engine = sa.create_engine(system_database_url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        finally:
            engine.dispose()
        assert (tmp_path / "dbos_sys.sqlite").is_file()
        return
    server_url = _server(postgres_server_url)
    server = make_url(server_url)
    assert url.database is not None and TEST_DB_NAME.match(url.database)
    assert (url.drivername, url.host, url.port, url.username) == (
        server.drivername,
        server.host,
        server.port,
        server.username,
    )
    assert not database_exists(server_url, url.database)  # the runtime creates it, not us


def test_throwaway_database_is_unique_and_dropped_even_with_open_connections(
    postgres_server_url: str | None,
) -> None:
    server_url = _server(postgres_server_url)
    names: list[str] = []
    for _ in range(2):
        with throwaway_database_url(server_url) as url:
            name = make_url(url).database
            assert name is not None
            names.append(name)
            with psycopg.connect(admin_conninfo(server_url), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')  # what the runtime would do
            assert database_exists(server_url, name)
            leaked = psycopg.connect(admin_conninfo(url), autocommit=True)  # left open
            assert leaked.execute("SELECT current_database()").fetchone() == (name,)
            t0 = time.monotonic()
        drop_s = time.monotonic() - t0
        assert not database_exists(server_url, name)
        assert drop_s < 10
        with pytest.raises(psycopg.OperationalError):  # FORCE terminated it
            leaked.execute("SELECT 1")
        leaked.close()
    assert names[0] != names[1]
    # Teardown of a database that was never created is fine too.
    with throwaway_database_url(server_url) as url:
        name = make_url(url).database
    assert name is not None and not database_exists(server_url, name)


def _run_inner_suite(
    tmp_path: Path, test_source: str, env_updates: dict[str, str | None]
) -> subprocess.CompletedProcess[str]:
    """Run a small pytest session that uses the real conftest.py and its helpers."""
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(TESTS_DIR / "conftest.py", suite / "conftest.py")
    for package in ("servers", "support"):
        shutil.copytree(
            TESTS_DIR / package, suite / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    (suite / "test_inner.py").write_text(textwrap.dedent(test_source))
    env = dict(os.environ)
    for key, value in env_updates.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider", str(suite)],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_fixture_drops_the_test_database_after_the_test(
    tmp_path: Path, postgres_server_url: str | None
) -> None:
    server_url = _server(postgres_server_url)
    record = tmp_path / "names.txt"
    result = _run_inner_suite(
        tmp_path,
        f"""
        import psycopg
        from sqlalchemy.engine import make_url
        from conftest import admin_conninfo

        def test_uses_db(system_database_url, backend):
            if backend == "postgres":
                url = make_url(system_database_url)
                name = url.database
                server = url.set(database="postgres").render_as_string(hide_password=False)
                with psycopg.connect(admin_conninfo(server), autocommit=True) as c:
                    c.execute(f'CREATE DATABASE "{{name}}"')  # as the runtime would
                # keep a connection open past the end of the test
                globals()["conn"] = psycopg.connect(admin_conninfo(system_database_url))
                with open({str(record)!r}, "a") as f:
                    f.write(name + "\\n")
        """,
        {POSTGRES_URL_ENV: server_url},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_uses_db[sqlite] PASSED" in result.stdout
    assert "test_uses_db[postgres] PASSED" in result.stdout
    (name,) = record.read_text().split()
    assert TEST_DB_NAME.match(name)
    assert not database_exists(server_url, name)


def test_postgres_param_skips_without_postgres_outside_ci(tmp_path: Path) -> None:
    result = _run_inner_suite(
        tmp_path,
        """
        def test_x(system_database_url):
            assert system_database_url
        """,
        {"CI": None, POSTGRES_URL_ENV: None, "DBOS_PG_BINDIR": "/nonexistent"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_x[sqlite] PASSED" in result.stdout
    assert "test_x[postgres] SKIPPED" in result.stdout
    assert "PostgreSQL unavailable" in result.stdout
    assert "1 passed, 1 skipped" in result.stdout


def test_postgres_param_fails_without_postgres_in_ci(tmp_path: Path) -> None:
    result = _run_inner_suite(
        tmp_path,
        """
        def test_x(system_database_url):
            assert system_database_url
        """,
        {"CI": "true", POSTGRES_URL_ENV: None, "DBOS_PG_BINDIR": "/nonexistent"},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "test_x[sqlite] PASSED" in result.stdout
    assert "test_x[postgres] ERROR" in result.stdout
    assert "CI=true but PostgreSQL is unavailable" in result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]


# --------------------------------------------------------------------------- parallel runs
PARALLEL_PROJECT_TEST = """
import os
from pathlib import Path


def test_record_where_it_ran():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "in-process")
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0")
    with open(Path(__file__).parent.parent / "ran.txt", "a") as out:
        out.write(f"{Path(__file__).name} {worker} {count}\\n")
"""


def _run_parallel_project(
    tmp_path: Path, *args: str, workers_env: str | None = None
) -> list[tuple[str, str, str]]:
    """A project with this suite's settings (addopts, the workers hook) and three test files:
    where each test ran, as (file, worker id or "in-process", number of workers)."""
    project = tmp_path / "project"
    if not project.exists():
        shutil.copytree(
            TESTS_DIR / "support", project / "support", ignore=shutil.ignore_patterns("__pycache__")
        )
        (project / "conftest.py").write_text(
            "from support.parallel import pytest_xdist_auto_num_workers  # noqa: F401\n"
        )
        (project / "pytest.ini").write_text(
            "[pytest]\ntestpaths = tests\naddopts = -n auto --dist loadfile\n"
        )
        (project / "tests").mkdir()
        for name in ("test_a.py", "test_b.py", "test_c.py"):
            (project / "tests" / name).write_text(PARALLEL_PROJECT_TEST)
    (project / "ran.txt").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    if workers_env is not None:
        env["PYTEST_XDIST_AUTO_NUM_WORKERS"] = workers_env
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = (project / "ran.txt").read_text().split("\n")
    return sorted((f, w, c) for f, w, c in (line.split() for line in lines if line))


def test_the_whole_suite_runs_on_workers_and_named_files_in_process(tmp_path: Path) -> None:
    whole = _run_parallel_project(tmp_path)
    assert [f for f, _, _ in whole] == ["test_a.py", "test_b.py", "test_c.py"]
    assert all(w.startswith("gw") and c == str(WHOLE_SUITE_WORKERS) for _, w, c in whole), whole
    a_directory = _run_parallel_project(tmp_path, "tests")
    assert all(w.startswith("gw") for _, w, _ in a_directory), a_directory
    named = _run_parallel_project(
        tmp_path, "tests/test_a.py", "tests/test_b.py::test_record_where_it_ran"
    )
    assert named == [("test_a.py", "in-process", "0"), ("test_b.py", "in-process", "0")]
    overridden = _run_parallel_project(tmp_path, workers_env="2")
    assert all(c == "2" for _, _, c in overridden), overridden
