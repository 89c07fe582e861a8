"""Regenerate the upstream fixtures: system databases written by released upstream DBOS.

For each upstream 2.x release below (one per distinct schema version the 2.x line shipped, on
either database), this makes `.venvs/dbos-<release>` (git-ignored) with that release from the
package index, runs `scenario.py` against a fresh SQLite file and a fresh PostgreSQL database,
kills it mid-flight (the scenario SIGKILLs itself), queues work from a client, and writes what
the database then holds as plain SQL:

    sqlite/dbos-<release>.sql      the SQLite file's dump (sqlite3's iterdump)
    postgres/dbos-<release>.sql    pg_dump --schema=dbos of the system database

The test suite loads these into fresh databases (`tests/upstream_db.py`), so it needs neither
upstream nor the network. Run from the repository root with the project's venv (it starts a
throwaway PostgreSQL with tests/servers/pg_cluster.py):

    .venv/bin/python tests/upstream_fixtures/generate.py [RELEASE ...]

For a minute after it ran, the conversion takes a fixture for a database upstream still writes
to (its newest write is that recent) and the tests that convert refuse it: wait that out.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from servers.pg_cluster import ThrowawayCluster  # noqa: E402

# release -> (PostgreSQL schema version, SQLite schema version) it ships, from each release's
# migration lists. Every distinct version of the 2.x line on either database has a release
# here; where two releases ship the same pair, the earlier one stands for both.
RELEASES: dict[str, tuple[int, int]] = {
    "2.0.0": (1, 1),
    "2.2.0": (2, 2),
    "2.4.0": (5, 5),
    "2.5.0": (6, 6),
    "2.7.0": (7, 6),
    "2.8.0": (7, 7),
    "2.11.0": (8, 8),
    "2.13.0": (10, 9),
    "2.14.0": (13, 12),
    "2.15.0": (15, 13),
    "2.16.0": (18, 16),
    "2.17.0": (19, 17),
    "2.20.0": (35, 32),
    "2.23.0": (39, 34),
    "2.25.0": (41, 36),
    "2.27.0": (42, 37),
    "2.28.0": (44, 37),
    "2.29.0": (47, 40),
    "2.30.0": (107, 107),
    "2.31.1": (108, 108),
}


def _python(release: str) -> str:
    env_dir = HERE / ".venvs" / f"dbos-{release}"
    py = env_dir / "bin" / "python"
    if not py.exists():
        venv.create(env_dir, with_pip=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"dbos=={release}"], check=True)
    return str(py)


def _run_scenario(py: str, url: str) -> None:
    env = {**os.environ, "PYTHONPATH": ""}
    done = subprocess.run(
        [py, str(HERE / "scenario.py"), "run", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "READY" not in done.stdout:
        raise SystemExit(f"scenario did not get ready:\n{done.stdout}\n{done.stderr}")
    subprocess.run(
        [py, str(HERE / "scenario.py"), "enqueue", url], env=env, check=True, timeout=300
    )


def _sqlite(release: str, py: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upstream.sqlite"
        _run_scenario(py, f"sqlite:///{path}")
        conn = sqlite3.connect(path)
        try:
            dump = "\n".join(conn.iterdump()) + "\n"
        finally:
            conn.close()
    out = HERE / "sqlite" / f"dbos-{release}.sql"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        f"-- Written by upstream dbos {release} (tests/upstream_fixtures/generate.py)\n{dump}"
    )


def _postgres(release: str, py: str, cluster: ThrowawayCluster) -> None:
    base = cluster.url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    name = "upstream_" + release.replace(".", "_")
    subprocess.run(
        ["psql", f"{base}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", f"{base}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    _run_scenario(py, f"postgresql://{base.split('://', 1)[1]}/{name}")
    dump = subprocess.run(
        ["pg_dump", "--schema=dbos", "--no-owner", "--no-privileges", f"{base}/{name}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # Lines that name this server's settings, not the schema: a fixture loads anywhere.
    kept = [
        ln
        for ln in dump.splitlines()
        if not ln.startswith(("SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict"))
    ]
    out = HERE / "postgres" / f"dbos-{release}.sql"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        f"-- Written by upstream dbos {release} (tests/upstream_fixtures/generate.py)\n"
        + "\n".join(kept)
        + "\n"
    )


def main(releases: list[str]) -> None:
    with ThrowawayCluster() as cluster:
        for release in releases or list(RELEASES):
            py = _python(release)
            _sqlite(release, py)
            _postgres(release, py, cluster)
            print(f"dbos {release}: written", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
