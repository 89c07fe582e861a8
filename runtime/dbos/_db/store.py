"""What every store of the system database stands on: the one `Connections` they share.

A store holds the reads and writes of one area (workflows and steps, queues, messages ...)
and nothing else; `SystemDatabase` builds one of each over its connections, so a store can be
built, used and tested alone over any `Connections`. The statements of the dialect, its name
and the two commit lanes are fixed for a connection's life and read on every write, so a
store keeps them at hand rather than one attribute further away.
"""

from __future__ import annotations

from .connections import Connections


class Store:
    def __init__(self, db: Connections) -> None:
        self.db = db
        self.sql = db.sql
        self.backend = db.backend
        self._committer = db.committer
        self._start_committer = db.start_committer
