"""Helpers shared by the workload scripts.

Every workload script runs unchanged under this project's interpreter (``/work/main/.venv``) and
under upstream DBOS's (``benchmarks/.upstream-venv``), so this module uses only the standard
library and the public ``dbos`` API.

Command line of every workload::

    python WORKLOAD.py --db SYSTEM_DATABASE_URL [--params '{"n": 100}']

It prints exactly one JSON line on stdout (the runner takes the last line starting with ``{``)::

    {"workload": "...", "impl": "ours|upstream", "backend": "sqlite|postgres",
     "status": "ok|n/a", "metrics": {...}, "params": {...}, "notes": [...]}
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

# Log level for both implementations, so that logging never dominates a measurement.
LOG_LEVEL = "WARNING"


def impl_name() -> str:
    """``upstream`` when the ``dbos`` distribution from PyPI is installed, else ``ours``."""
    try:
        metadata.version("dbos")
    except metadata.PackageNotFoundError:
        return "ours"
    return "upstream"


def impl_version() -> str:
    for dist in ("dbos", "dbos-durable"):
        try:
            return f"{dist}=={metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def backend_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


class Args:
    """Parsed command line: the system database URL and the workload's parameters."""

    def __init__(self, db: str, params: dict[str, Any], mode: str) -> None:
        self.db = db
        self.params = params
        self.mode = mode

    def get_int(self, key: str, default: int) -> int:
        return int(self.params.get(key, default))

    def get_float(self, key: str, default: float) -> float:
        return float(self.params.get(key, default))


def parse_args(argv: Sequence[str] | None = None) -> Args:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--db",
        default=os.environ.get("DBOS_SYSTEM_DATABASE_URL", ""),
        help="system database URL (default: $DBOS_SYSTEM_DATABASE_URL)",
    )
    parser.add_argument("--params", default="{}", help="JSON object of workload parameters")
    parser.add_argument("--mode", default="run", help="internal: sub-mode of a workload")
    ns = parser.parse_args(argv)
    if not ns.db:
        parser.error("--db (or $DBOS_SYSTEM_DATABASE_URL) is required")
    params = json.loads(ns.params)
    if not isinstance(params, dict):
        parser.error("--params must be a JSON object")
    return Args(ns.db, params, ns.mode)


def make_config(url: str, name: str) -> Any:
    """The same ``DBOSConfig`` for both implementations: name, system DB URL, log level."""
    from dbos import DBOSConfig

    config: DBOSConfig = {
        "name": name,
        "system_database_url": url,
        "log_level": LOG_LEVEL,
    }
    return config


def emit(
    workload: str,
    args: Args,
    metrics: dict[str, Any],
    *,
    status: str = "ok",
    notes: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Print the result line and flush (callers usually ``hard_exit`` right after)."""
    out: dict[str, Any] = {
        "workload": workload,
        "impl": impl_name(),
        "version": impl_version(),
        "python": sys.version.split()[0],
        "backend": backend_of(args.db),
        "status": status,
        "metrics": metrics,
        "params": args.params,
        "notes": notes or [],
    }
    if extra:
        out.update(extra)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


def emit_not_available(workload: str, args: Args, reason: str, metric_keys: Sequence[str]) -> None:
    """Graceful result for a feature this implementation does not have (yet)."""
    emit(
        workload,
        args,
        dict.fromkeys(metric_keys),
        status="n/a",
        notes=[f"not implemented: {reason}"],
    )


def hard_exit(code: int = 0) -> None:
    """Exit without waiting for the implementation's background threads.

    Everything measured has been printed already; a clean ``DBOS.destroy()`` would only add
    shutdown time (and could wait for the threads of blocked workflows).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def timed(fn: Callable[[], Any]) -> float:
    """Seconds taken by ``fn()``."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_ms(samples_s: Sequence[float]) -> float | None:
    return round(statistics.median(samples_s) * 1000.0, 4) if samples_s else None


def wait_until(pred: Callable[[], bool], timeout_s: float, interval_s: float = 0.01) -> bool:
    """Poll ``pred`` until true or ``timeout_s`` passes (bounded: never loops forever)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval_s)
    return pred()


def count_workflows(status: str) -> int:
    """Number of workflows in ``status`` via ``DBOS.list_workflows`` (inputs/outputs not loaded
    where the implementation supports skipping them)."""
    from dbos import DBOS

    try:
        return len(DBOS.list_workflows(status=status, load_input=False, load_output=False))
    except TypeError:
        return len(DBOS.list_workflows(status=status))
