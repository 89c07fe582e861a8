"""A FastAPI app whose async workflows call another service through the one
`httpx.AsyncClient` it opens at startup.

    python examples/fastapi_httpx_app.py      # serves on 127.0.0.1:8000 (HOST, PORT override)

    curl -X POST 'localhost:8000/restock/widget?wanted=10'

The "supplier" here is a route of the same server (`SUPPLIER_URL` points elsewhere), so the
example runs with nothing else installed. A client made at startup belongs to the server's
event loop: its pooled connections and locks work only there. Async workflows started by a
route run on that loop, so their steps can use it, and a restock interrupted by a crash is
finished by recovery from its last completed step.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from dbos import DBOS, DBOSConfig, SetWorkflowID

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8000"))
SUPPLIER_URL = os.environ.get("SUPPLIER_URL", f"http://{HOST}:{PORT}/supplier")

supplier: httpx.AsyncClient | None = None


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """One client for the whole server: connections are pooled across requests."""
    global supplier
    async with httpx.AsyncClient(base_url=SUPPLIER_URL, timeout=10) as client:
        supplier = client
        yield
        supplier = None


app = FastAPI(lifespan=lifespan)
config: DBOSConfig = {
    "name": "restocker",
    "system_database_url": os.environ.get("DBOS_SYSTEM_DATABASE_URL"),
}
DBOS(config=config, fastapi=app)  # launched inside the lifespan above, destroyed after it


# ------------------------------------------------------------------ the supplier's side

stock: dict[str, int] = {}


@app.get("/supplier/stock/{sku}")
async def supplier_stock(sku: str) -> dict[str, int]:
    return {"count": stock.get(sku, 3)}


@app.post("/supplier/orders/{sku}")
async def supplier_order(sku: str, quantity: int) -> dict[str, object]:
    stock[sku] = stock.get(sku, 3) + quantity
    return {"order": f"po-{sku}-{quantity}", "count": stock[sku]}


# ------------------------------------------------------------------ the durable side


def _client() -> httpx.AsyncClient:
    assert supplier is not None, "the server has not started"
    return supplier


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=0.5, timeout_seconds=10)
async def count_stock(sku: str) -> int:
    response = await _client().get(f"/stock/{sku}")
    response.raise_for_status()
    return int(response.json()["count"])


@DBOS.step(timeout_seconds=10)
async def order_more(sku: str, quantity: int) -> str:
    response = await _client().post(f"/orders/{sku}", params={"quantity": quantity})
    response.raise_for_status()
    return str(response.json()["order"])


@DBOS.workflow()
async def restock(sku: str, wanted: int) -> dict[str, object]:
    have = await count_stock(sku)
    if have >= wanted:
        return {"sku": sku, "ordered": None, "count": have}
    order = await order_more(sku, wanted - have)
    return {"sku": sku, "ordered": order, "count": await count_stock(sku)}


@app.post("/restock/{sku}")
async def restock_route(sku: str, wanted: int = 10) -> dict[str, object]:
    with SetWorkflowID(f"restock-{sku}-{wanted}"):  # one restock per request key
        return await restock(sku, wanted)


if __name__ == "__main__":
    uvicorn.run(app, host=HOST, port=PORT)
