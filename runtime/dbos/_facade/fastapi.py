"""`DBOS(config=..., fastapi=app)`: launch with the app's startup, destroy with its shutdown,
and answer a request whose user lacks a required role with 403 (`DBOSNotAuthorizedError`).

On shutdown DBOS stops gracefully before it is destroyed: no new work is claimed and the
steps running finish (up to `shutdown_grace_period_sec`); their workflows resume at recovery.
The app's own lifespan handler (or `on_startup`/`on_shutdown` hooks, which Starlette folds into
its default lifespan) keeps running, inside ours: DBOS is launched before the user's startup
code runs (so it may start workflows) and destroyed after the user's shutdown code.
FastAPI is imported by the application, never by us: this module only touches the app object.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from .._error import DBOSNotAuthorizedError
from .._services.shutdown import drain_then


def install_lifespan(
    app: Any,
    launch: Callable[[asyncio.AbstractEventLoop], None],
    destroy: Callable[[], None],
) -> None:
    """Install DBOS on the app: its lifespan, and the 403 answer for an unauthorized user.
    Launch runs on a worker thread (it opens and migrates a database: the server's loop keeps
    serving) and is told the server's loop, which queued async workflows then run on."""
    router = getattr(app, "router", None)
    original = getattr(router, "lifespan_context", None)
    if router is None or original is None:
        raise TypeError(f"DBOS(fastapi=...) needs a FastAPI or Starlette app, got {app!r}")
    if getattr(original, "__dbos_lifespan__", False):
        return  # installed by an earlier DBOS(fastapi=app) on the same app

    @asynccontextmanager
    async def lifespan(running_app: Any) -> AsyncIterator[Any]:
        await asyncio.to_thread(launch, asyncio.get_running_loop())
        try:
            user_lifespan: AbstractAsyncContextManager[Any] = original(running_app)
            async with user_lifespan as state:
                yield state
        finally:
            # The server is stopping (uvicorn got SIGTERM or SIGINT, or the app is closed):
            # the graceful stop, as on SIGTERM without a server (`_services/shutdown.py`).
            await asyncio.to_thread(drain_then, destroy)

    lifespan.__dbos_lifespan__ = True  # type: ignore[attr-defined]
    router.lifespan_context = lifespan
    add_handler = getattr(app, "add_exception_handler", None)
    if add_handler is not None:
        add_handler(DBOSNotAuthorizedError, _not_authorized)


async def _not_authorized(_request: Any, exc: Exception) -> Any:
    """A request refused by `DBOS.required_roles`: 403, with the error as upstream shapes it
    (other errors are the application's to answer)."""
    from starlette.responses import JSONResponse  # the app's dependency, present with it

    assert isinstance(exc, DBOSNotAuthorizedError)
    return JSONResponse(
        status_code=403,
        content={
            "message": exc.message,
            "dbos_error_code": str(exc.dbos_error_code),
            "dbos_error": type(exc).__name__,
        },
    )
