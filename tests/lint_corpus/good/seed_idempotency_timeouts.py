"""Seed: idempotent workflows, timeouts and debouncing."""

from dbos import DBOS, Debouncer, SetWorkflowID, SetWorkflowTimeout


@DBOS.workflow()
def process_payment(payment_id: str, amount: float) -> str:
    return "processed"


def handle_payment(payment_id: str, amount: float):
    # Same workflow ID = same execution (prevents duplicates)
    with SetWorkflowID(f"payment-{payment_id}"):
        result = process_payment(payment_id, amount)
    return result


@DBOS.workflow()
def long_workflow(data: str) -> str:
    return "completed"


# Workflow times out after 1 hour
with SetWorkflowTimeout(3600):
    result = long_workflow("input")


@DBOS.workflow()
def process_user_input(user_id: str, final_input: str) -> str:
    return f"Processing: {final_input}"


debouncer = Debouncer.create(process_user_input)


def on_user_keystroke(user_id: str, current_input: str):
    debouncer.debounce(user_id, 60, current_input)
