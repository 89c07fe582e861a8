"""The system database: one object per process, its connections and one store per area.

Each store holds the reads and writes of its area, their SQL in `sql/`, one module per area;
all of them share this object's connections (`Connections`: statements, retries through
outages, the commit lanes). A caller names the area: `sysdb.workflows.record_step(...)`,
`sysdb.queues.claim(...)`, `sysdb.messages.send_messages(...)`. A store is usable alone over
any `Connections` (see `tests/test_stores.py`).
"""

from __future__ import annotations

from sqlalchemy.engine import URL

from .caller_writes import CallerWrites
from .connections import Connections
from .inspection_store import InspectionStore
from .message_store import MessageStore
from .queue_statistics import QueuedRowStatistics
from .queue_store import QueueStore
from .queue_table import QueueTableStore
from .retention_store import RetentionStore
from .schedule_store import ScheduleStore
from .setup import SchemaSetup
from .version_store import VersionStore
from .workflow_store import WorkflowStore


class SystemDatabase(Connections):
    """One process's handle on the system database, shared by every workflow thread."""

    def __init__(
        self,
        url: URL,
        *,
        schema: str = "dbos",
        pool_size: int = 20,
        sqlite_synchronous: str = "FULL",
    ) -> None:
        super().__init__(
            url, schema=schema, pool_size=pool_size, sqlite_synchronous=sqlite_synchronous
        )
        #: Creating, migrating, checking and dropping the database itself.
        self.setup = SchemaSetup(self)
        #: Workflow rows and their step checkpoints.
        self.workflows = WorkflowStore(self)
        #: Enqueueing, claiming and requeueing queued workflows; executors' heartbeats.
        self.queues = QueueStore(self, self.workflows)
        #: The planner's statistics of queued rows, kept within reach of the backlog.
        self.queue_statistics = QueuedRowStatistics(self)
        #: The rows of registered and declared queues (their settings and their work).
        self.queue_table = QueueTableStore(self)
        #: Schedules and their ticks.
        self.schedules = ScheduleStore(self)
        #: Messages, events and streams.
        self.messages = MessageStore(self, self.workflows)
        #: Enqueues and sends inside the application's own transaction.
        self.caller_writes = CallerWrites(self, self.workflows)
        #: Garbage collection and deletion of workflows.
        self.retention = RetentionStore(self)
        #: Read-only views for the admin command and the dashboard.
        self.inspection = InspectionStore(self)
        #: Application versions.
        self.versions = VersionStore(self)
