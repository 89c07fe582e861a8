"""The rules an enqueue's options obey, checked before anything is written, with upstream
DBOS's messages: which options need a queue, which need each other, and which a partitioned
queue requires or refuses. Every way of enqueueing (`Queue.enqueue`, `DBOS.enqueue_workflow`,
`enqueue_workflow_with_options`, `DBOSClient.enqueue`) checks the same ones here.
"""

from __future__ import annotations

from .._error import DBOSException
from .._registry.queues import QueueSpec
from .context import EnqueueOptions


def refuse_without_queue(options: EnqueueOptions | None) -> None:
    """A workflow started without a queue: the options only a queue honours are refused
    rather than silently dropped (a deduplication ID written on such a row would also turn
    into a unique-constraint violation once anything gave the row a queue). `app_version`
    stays allowed: it decides which executors may recover the workflow."""
    if options is None:
        return
    names = options.queue_only()
    if names:
        raise DBOSException(
            f"Enqueue option(s) {', '.join(names)} set on a workflow that is not being "
            "enqueued. These options are only supported when enqueueing a workflow onto a "
            "queue."
        )
    if options.duplication_policy == "return-existing":
        raise DBOSException(
            "duplication_policy 'return-existing' requires a queue. It is only supported when "
            "enqueueing a workflow onto a queue."
        )


def check_duplication_policy(policy: str | None, deduplication_id: str | None) -> None:
    """On a queue: "return-existing" attaches to the holder of a deduplication ID, so it
    needs one."""
    if policy is None or policy == "reject":
        return
    if policy != "return-existing":
        raise DBOSException(
            f"Invalid duplication_policy {policy}. Must be either 'reject' or 'return-existing'."
        )
    if deduplication_id is None:
        raise DBOSException("duplication_policy 'return-existing' requires a deduplication_id.")


def check_partition_options(
    spec: QueueSpec,
    partition_key: str | None,
    deduplication_id: str | None,
    *,
    seed_key: bool = False,
) -> None:
    """Upstream's rules for a partition key on this queue. The seed's `enqueue(...,
    partition_key=)` on a queue that is not partitioned (`seed_key`) keeps its meaning (the
    key's workflows run one at a time, in order) and is not refused."""
    if partition_key is not None and deduplication_id is not None:
        raise DBOSException("Deduplication is not supported for partitioned queues")
    if spec.partition_queue and partition_key is None:
        raise DBOSException(
            f"A workflow cannot be enqueued on partitioned queue {spec.name} without a "
            "partition key"
        )
    if partition_key is not None and not spec.partition_queue and not seed_key:
        raise DBOSException(
            f"You can only use a partition key on a partition-enabled queue. Key "
            f"{partition_key} was used with non-partitioned queue {spec.name}"
        )
