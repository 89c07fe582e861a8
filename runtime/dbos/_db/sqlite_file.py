"""Noticing the SQLite system database file deleted or replaced under a running process.

Open connections keep writing to the old, unlinked file (in WAL mode SQLite does not notice),
and a new connection to the path would create a fresh, empty file and carry on there: either
way the workflows recorded so far would silently be gone. The file's identity (device and
inode) is taken once the schema is set up; a connection is opened only while the path still
names that file, writes look again at most every `RECHECK_SEC` (one `stat`), and a write refused
because the file moved is an error naming the file, never retried.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field

from .._error import DBOSDatabaseReplacedError

# sqlite3.OperationalError.sqlite_errorcode (Python 3.11+) of a write through a connection whose
# file was unlinked or renamed; older Pythons only say "attempt to write a readonly database".
_SQLITE_READONLY_DBMOVED = 1032


RECHECK_SEC = 0.2


@dataclass
class SqliteFileGuard:
    path: str
    identity: tuple[int, int] | None = field(default=None)
    _checked_at: float = field(default=0.0)

    def check_now_and_then(self) -> None:
        """`check()` on the write path, at most every RECHECK_SEC (a clock read otherwise)."""
        now = time.monotonic()
        if self.identity is not None and now - self._checked_at >= RECHECK_SEC:
            self._checked_at = now
            self.check()

    def remember(self) -> None:
        """Take the file's identity (after set-up created or opened it)."""
        st = os.stat(self.path)
        self.identity = (st.st_dev, st.st_ino)

    def forget(self) -> None:
        """The file is being dropped on purpose (`reset_system_database`)."""
        self.identity = None

    def check(self) -> None:
        """Raise if the path no longer names the file this process set up."""
        if self.identity is None:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise self._error("deleted") from None
        if (st.st_dev, st.st_ino) != self.identity:
            raise self._error("replaced by another file")

    def explain(self, exc: BaseException) -> DBOSDatabaseReplacedError | None:
        """The replaced-file error behind a failed statement, if that is what it was."""
        if self.identity is None:
            return None
        orig = getattr(exc, "orig", exc)
        if not isinstance(orig, sqlite3.Error):
            return None
        moved = getattr(orig, "sqlite_errorcode", None) == _SQLITE_READONLY_DBMOVED
        if moved or "readonly" in str(orig).lower() or "no such table" in str(orig).lower():
            try:
                self.check()
            except DBOSDatabaseReplacedError as replaced:
                return replaced
            if moved:
                return self._error("moved")
        return None

    def _error(self, what: str) -> DBOSDatabaseReplacedError:
        return DBOSDatabaseReplacedError(
            f"The SQLite system database {self.path} was {what} while this process ran; DBOS "
            "stops writing rather than start over in a new, empty file. Put the file back, or "
            "restart the process to begin with a new database."
        )
