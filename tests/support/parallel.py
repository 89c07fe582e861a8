"""How many pytest-xdist workers a run gets (the hook is imported into ``tests/conftest.py``).

``pyproject.toml`` asks for ``-n auto --dist loadfile``, so the README's command,
``.venv/bin/python -m pytest -q``, spreads the suite's files over several worker processes. Most
of the suite's wall time is spent waiting (subprocesses starting and being killed, servers
starting, fsync, the deliberate waits of timeout tests), so more workers than cores pays.

``auto`` resolves here:

* the whole suite (no path given, or a directory) runs on ``WHOLE_SUITE_WORKERS`` workers;
* named files or test ids run in this process (0 workers): one file by hand starts as fast as it
  always did, with no worker start-up and no extra PostgreSQL servers;
* ``$PYTEST_XDIST_AUTO_NUM_WORKERS`` overrides both (xdist's own variable), and an explicit
  ``-n 3`` / ``-n 0`` on the command line bypasses this hook altogether.

Files go to workers in the order ``pytest_collection_modifyitems`` leaves them (``pyproject.toml``
passes ``--no-loadscope-reorder``): the longest files first (``START_FIRST``, then files holding a
test marked ``slow``), so they start at once instead of ending the run alone on one worker, then
the rest by size.

Each worker is a separate process with its own session fixtures: its own throwaway PostgreSQL
cluster and PgBouncer (``tests/conftest.py``), its own ``tmp_path`` root. Files are the unit of
distribution, so a module's tests keep running in order, in one process.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Enough to overlap the suite's waits (subprocesses starting, servers, deliberate waits) on 2 cores
# without starving its timing tests (3 rather than 4: the suite is half CPU-bound);
# each worker adds a PostgreSQL server and its share of memory.
WHOLE_SUITE_WORKERS = 3

# The files that take longest (`--durations`, 2026-12-06: the 20,000-receiver parking test alone
# ran 8 minutes on a loaded machine; the compiled copy of the workflow suite 2; the pre-commit
# hook's venv 1). A file named here that no longer exists is simply not found.
START_FIRST = (
    "tests/test_parking_scale.py",
    "tests/codegen/test_compiled_suite.py",
    "tests/lint/test_precommit.py",
)


def runs_whole_directories(config: pytest.Config) -> bool:
    """True when pytest was given no paths (testpaths apply) or only directories."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return True
    paths = [arg.split("::", 1)[0] for arg in config.args]
    return all(Path(config.invocation_params.dir, path).is_dir() for path in paths)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's default implementation reads it
    return WHOLE_SUITE_WORKERS if runs_whole_directories(config) else 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`START_FIRST`, then files with a `slow` test (most first), then by number of tests, each
    file's tests kept together and in their own order. Every worker sorts its identical
    collection identically, as xdist requires."""
    if not hasattr(config, "workerinput"):
        return  # not an xdist worker: the files' own order
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def weight(path_and_items: tuple[str, list[pytest.Item]]) -> tuple[int, int, int]:
        path, tests = path_and_items
        first = START_FIRST.index(path) if path in START_FIRST else len(START_FIRST)
        slow = sum(1 for item in tests if item.get_closest_marker("slow") is not None)
        return (first, -slow, -len(tests))

    ordered = sorted(by_file.items(), key=weight)  # stable: ties keep collection order
    items[:] = [item for _, tests in ordered for item in tests]
