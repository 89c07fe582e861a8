"""Seed: messages, events, durable sleep and scheduled workflows."""

from dbos import DBOS


@DBOS.workflow()
def checkout_workflow(order_id: str) -> str:
    # Wait up to 5 minutes for payment confirmation
    payment_result = DBOS.recv(topic="payment", timeout_seconds=300)
    if payment_result is None:
        return "payment_timeout"
    if payment_result["status"] == "completed":
        return "order_completed"
    return "payment_failed"


def payment_webhook(workflow_id: str, status: str):
    DBOS.send(workflow_id, {"status": status}, topic="payment")


@DBOS.step()
def generate_payment_url(order: dict) -> str:
    return f"https://pay.example.com/{order['id']}"


@DBOS.workflow()
def checkout_events_workflow(order: dict) -> str:
    payment_url = generate_payment_url(order)
    DBOS.set_event("payment_url", payment_url)
    return "completed"


def checkout_handler(order: dict):
    handle = DBOS.start_workflow(checkout_events_workflow, order)
    url = DBOS.get_event(handle.workflow_id, "payment_url", timeout_seconds=30)
    return {"redirect_url": url}


@DBOS.step()
def execute_task(task: str) -> str:
    return task


@DBOS.workflow()
def scheduled_task_workflow(delay_seconds: int, task: str) -> str:
    DBOS.sleep(delay_seconds)
    return execute_task(task)


@DBOS.step()
def perform_backup() -> None:
    pass


@DBOS.step()
def check_system_health() -> str:
    return "ok"


@DBOS.scheduled("0 2 * * *")  # Daily at 2:00 AM
@DBOS.workflow()
def daily_backup(scheduled_time, actual_time):
    perform_backup()
    return "backup_completed"


@DBOS.scheduled("*/15 * * * *")  # Every 15 minutes
@DBOS.workflow()
def health_check(scheduled_time, actual_time):
    return check_system_health()


if __name__ == "__main__":
    DBOS.launch()  # Schedules start automatically
