"""Workload 6: import + launch time and peak memory of a minimal app, in a fresh process.

The runner starts this script as a new interpreter each time. Metrics: ``import_ms`` (``import
dbos``), ``launch_ms`` (``DBOS(config=...)`` + decorators + ``DBOS.launch()`` on a fresh system
database, so it includes creating the schema), ``import_launch_ms`` (their sum),
``first_wf_ms`` (first run of a one-step workflow), ``maxrss_mb`` (peak RSS of this process at
the end: ``VmHWM``, i.e. ``ru_maxrss`` without what Linux inherits from the parent) and
``baseline_maxrss_mb`` (the same before ``import dbos``: the interpreter alone).
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

import resource  # noqa: E402
import sys  # noqa: E402


def peak_rss_kb() -> int:
    """Peak RSS of this process: ``VmHWM`` on Linux, else ``ru_maxrss``.

    Linux carries ``ru_maxrss`` over from the parent across fork+exec (a runner with a large RSS
    would inflate it); ``VmHWM`` belongs to this process's own address space.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


BASELINE_RSS_KB = peak_rss_kb()

T_IMPORT0 = time.perf_counter()
from dbos import DBOS  # noqa: E402

T_IMPORT1 = time.perf_counter()

from _common import emit, hard_exit, make_config, parse_args  # noqa: E402

ARGS = parse_args()

T_SETUP0 = time.perf_counter()
DBOS(config=make_config(ARGS.db, "bench-startup"))


@DBOS.step()
def hello_step(x: int) -> int:
    return x + 1


@DBOS.workflow()
def hello_workflow(x: int) -> int:
    return hello_step(x)


def main() -> None:
    t0 = T_SETUP0
    DBOS.launch()
    t1 = time.perf_counter()
    assert hello_workflow(1) == 2
    t2 = time.perf_counter()
    rss_kb = peak_rss_kb()
    import_s = T_IMPORT1 - T_IMPORT0
    launch_s = t1 - t0
    metrics = {
        "import_ms": round(import_s * 1000.0, 2),
        "launch_ms": round(launch_s * 1000.0, 2),
        "import_launch_ms": round((import_s + launch_s) * 1000.0, 2),
        "first_wf_ms": round((t2 - t1) * 1000.0, 2),
        "maxrss_mb": round(rss_kb / 1024.0, 2),
        "baseline_maxrss_mb": round(BASELINE_RSS_KB / 1024.0, 2),
        "modules_loaded": len(sys.modules),
    }
    emit("w6_startup", ARGS, metrics)
    hard_exit(0)


if __name__ == "__main__":
    main()
