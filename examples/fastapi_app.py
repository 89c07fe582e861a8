"""A FastAPI app on durable workflows: the seed's order routes, a checkout with a payment
webhook, and an agent that streams tokens to the browser.

    python examples/fastapi_app.py            # serves on 127.0.0.1:8000 (HOST, PORT override)

The checkout survives the server being killed at any point: start a checkout, kill the server,
start it again, deliver the webhook, and the same checkout finishes.

    curl -X POST localhost:8000/orders/o1                       # the seed's order workflow
    curl -X POST localhost:8000/checkout/o2                     # -> {"redirect_url": ...}
    curl -X POST 'localhost:8000/webhooks/payment/o2?status=completed'
    curl localhost:8000/checkout/o2                             # -> {"status": "order_completed"}
    curl -N localhost:8000/agent?prompt=hello                   # tokens as they are produced
"""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from dbos import DBOS, DBOSConfig, SetWorkflowID

app = FastAPI()
config: DBOSConfig = {
    "name": "shop",
    "system_database_url": os.environ.get("DBOS_SYSTEM_DATABASE_URL"),
}
DBOS(config=config, fastapi=app)  # launched on startup, destroyed on shutdown


# ------------------------------------------------------------------ the seed's order routes


@DBOS.step()
def process_order(order_id: str) -> dict:
    return {"order_id": order_id, "status": "processed"}


@app.post("/orders/{order_id}")
@DBOS.workflow()
def create_order(order_id: str) -> dict:
    return process_order(order_id)


@app.get("/orders/{order_id}/status")
def get_order_status(order_id: str):
    workflows = DBOS.list_workflows(workflow_id=order_id)
    return workflows[0] if workflows else None


# ------------------------------------------------------------------ checkout


@DBOS.step()
def reserve_inventory(order_id: str) -> str:
    return f"reservation-{order_id}"


@DBOS.step()
def create_payment_session(order_id: str) -> str:
    # Stands in for a payment provider's API call; the URL is recorded, so a restart shows
    # the customer the same payment page, not a second one.
    return f"https://pay.example.com/session/{order_id}"


@DBOS.step()
def fulfill(order_id: str, reservation: str) -> str:
    return f"shipped {reservation}"


@DBOS.workflow()
def checkout_workflow(order_id: str) -> str:
    reservation = reserve_inventory(order_id)
    DBOS.set_event("payment_url", create_payment_session(order_id))
    DBOS.set_event("status", "awaiting_payment")
    payment = DBOS.recv(topic="payment", timeout_seconds=300)
    if payment is None:
        outcome = "payment_timeout"
    elif payment["status"] == "completed":
        fulfill(order_id, reservation)
        outcome = "order_completed"
    else:
        outcome = "payment_failed"
    DBOS.set_event("status", outcome)
    return outcome


def checkout_id(order_id: str) -> str:
    return f"checkout-{order_id}"


@app.post("/checkout/{order_id}")
def start_checkout(order_id: str) -> dict:
    with SetWorkflowID(checkout_id(order_id)):  # a retried request joins the same checkout
        handle = DBOS.start_workflow(checkout_workflow, order_id)
    url = DBOS.get_event(handle.workflow_id, "payment_url", timeout_seconds=30)
    return {"workflow_id": handle.workflow_id, "redirect_url": url}


@app.post("/webhooks/payment/{order_id}")
def payment_webhook(order_id: str, status: str) -> dict:
    DBOS.send(checkout_id(order_id), {"status": status}, topic="payment")
    return {"received": status}


@app.get("/checkout/{order_id}")
def checkout_status(order_id: str) -> dict:
    return {"status": DBOS.get_event(checkout_id(order_id), "status", timeout_seconds=0)}


# ------------------------------------------------------------------ a streaming agent


@DBOS.step()
def next_token(prompt: str, i: int) -> str:
    # Stands in for one call to a language model.
    return f"{prompt}-{i} "


@DBOS.workflow()
def agent(prompt: str, n_tokens: int) -> int:
    for i in range(n_tokens):
        DBOS.write_stream("tokens", next_token(prompt, i))
    DBOS.close_stream("tokens")
    return n_tokens


@app.get("/agent")
async def run_agent(prompt: str, n: int = 5) -> StreamingResponse:
    handle = await DBOS.start_workflow_async(agent, prompt, n)
    tokens = DBOS.read_stream_async(handle.workflow_id, "tokens")
    return StreamingResponse(tokens, media_type="text/plain")


if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    uvicorn.run(app, host=host, port=int(os.environ.get("PORT", "8000")))
