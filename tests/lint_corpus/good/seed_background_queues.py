"""Seed: background workflows, queues, rate limiting and partitioned queues."""

from dbos import DBOS, Queue, WorkflowHandle


def long_running_task(data: str) -> str:
    return data.upper()


@DBOS.workflow()
def background_workflow(data: str) -> str:
    return long_running_task(data)


# Start without blocking
handle: WorkflowHandle = DBOS.start_workflow(background_workflow, "input")
print(f"Workflow ID: {handle.workflow_id}")
# Later, retrieve result
result = handle.get_result()

queue = Queue("task_queue", worker_concurrency=5)
rate_limited_queue = Queue(
    "api_queue",
    limiter={"limit": 100, "period": 60},  # 100 requests per minute
)


@DBOS.workflow()
def process_task(task_id: int) -> str:
    return f"Completed task {task_id}"


handle = queue.enqueue(process_task, 123)
result = handle.get_result()

user_queue = Queue("user_queue", worker_concurrency=10)


@DBOS.workflow()
def process_user_action(user_id: str, action: dict) -> str:
    return f"Processed {action} for {user_id}"


# Actions for same user_id processed in order
user_queue.enqueue(
    process_user_action, "user_123", {"type": "update"}, partition_key="user_123"
)
