"""The system database: one object per process, composed of one store per area.

Each store holds the reads and writes of its area (workflows and steps; messages, events and
streams; queues; schedules); their SQL lives in `sql/`, one module per area. Connections and
set-up are shared by all of them.
"""

from __future__ import annotations

from .caller_writes import CallerWrites
from .inspection_store import InspectionStore
from .message_store import MessageStore
from .queue_store import QueueStore
from .queue_table import QueueTableStore
from .retention_store import RetentionStore
from .schedule_store import ScheduleStore
from .setup import SchemaSetup
from .version_store import VersionStore


class SystemDatabase(
    QueueStore,
    QueueTableStore,
    ScheduleStore,
    MessageStore,
    CallerWrites,
    RetentionStore,
    InspectionStore,
    VersionStore,
    SchemaSetup,
):
    """One process's handle on the system database, shared by every workflow thread."""
