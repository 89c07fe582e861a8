"""Ending the subprocesses a test started, whatever state each is in."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable


def kill_all(procs: Iterable[subprocess.Popen[str]]) -> None:
    """SIGKILL every process still running and reap it, so no test leaves one behind."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.communicate(timeout=10)
        except (subprocess.TimeoutExpired, ValueError):
            pass
