"""Whether the process that holds a workflow may still be running it.

Owner tokens name the process incarnation that handed them out; its row in `executors` says
when it last beat. On this machine a process is also asked directly: a dead PID needs no wait.
"""

from __future__ import annotations

import os
import socket

from .._clock import real_now_ms


def instance_of(owner: str | None) -> str | None:
    """The process incarnation an owner token belongs to (None for tokens without one)."""
    if not owner or "." not in owner:
        return None
    return owner.split(".", 1)[0]


def instance_alive(
    instance: tuple[str, str, str | None, int | None, int] | None, timeout_sec: float
) -> bool:
    """Whether a process (a row of `executors`) may still be running its work."""
    if instance is None:
        return False
    _, _, hostname, pid, heartbeat_at = instance
    if real_now_ms() - int(heartbeat_at) > timeout_sec * 1000:
        return False  # silent past the bound, or stopped cleanly (heartbeat 0)
    if hostname == socket.gethostname() and pid is not None:
        if int(pid) == os.getpid():
            return False  # an earlier incarnation in a process that reused our PID
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False  # died on this machine; no need to wait out its heartbeat
        except PermissionError:
            return True
    return True
