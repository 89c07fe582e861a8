"""`DBOS(config=..., fastapi=app)`: launch with the app's startup, destroy with its shutdown.

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


def install_lifespan(app: Any, launch: Callable[[], None], destroy: Callable[[], None]) -> None:
    router = getattr(app, "router", None)
    original = getattr(router, "lifespan_context", None)
    if router is None or original is None:
        raise TypeError(f"DBOS(fastapi=...) needs a FastAPI or Starlette app, got {app!r}")
    if getattr(original, "__dbos_lifespan__", False):
        return  # installed by an earlier DBOS(fastapi=app) on the same app

    @asynccontextmanager
    async def lifespan(running_app: Any) -> AsyncIterator[Any]:
        await asyncio.to_thread(launch)
        try:
            user_lifespan: AbstractAsyncContextManager[Any] = original(running_app)
            async with user_lifespan as state:
                yield state
        finally:
            await asyncio.to_thread(destroy)

    lifespan.__dbos_lifespan__ = True  # type: ignore[attr-defined]
    router.lifespan_context = lifespan
