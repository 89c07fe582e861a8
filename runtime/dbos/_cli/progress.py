"""Progress of long operations (a bulk cancel, a garbage collection of many rows) on a
terminal; nothing at all when stderr is a pipe or a file, so scripts see only results."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_MIN_INTERVAL_SEC = 0.1


class Progress:
    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self._last = 0.0
        self._shown = False

    def update(self, done: int) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if now - self._last < _MIN_INTERVAL_SEC and done != self.total:
            return
        self._last = now
        of = f"/{self.total}" if self.total is not None else ""
        percent = f" ({100 * done // self.total}%)" if self.total else ""
        self.stream.write(f"\r{self.label}: {done}{of}{percent}")
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
