"""Transactions of an `AsyncSQLAlchemyDatasource`: an async function's SQL and its output
commit in one transaction of the datasource, then the step is recorded; the async twin of
`transactions.py`, with every system-database write off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._db.async_application import AsyncDatabase, current_async_session
from .checkpoint import Replayed, begin_step, write_checkpoint
from .context import StepContext, current_step
from .offload import off_loop
from .runtime import get_runtime


async def run_transaction_async(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    isolation_level: str,
    database: AsyncDatabase,
) -> Any:
    """Outside any workflow (before `DBOS.launch()` too) or inside a step, a plain
    transaction, as upstream runs it: nothing is recorded."""
    if current_async_session.get() is not None:
        return await func(*args, **kwargs)  # nested in another transaction: part of it
    begun = begin_step(name)
    if isinstance(begun, Replayed):
        return begun.value()  # recorded: its database is not even opened (a replay needs none)
    try:
        await database.ready()
    except BaseException as exc:
        if begun is not None:
            begun.end_span(exc)
        raise
    if begun is None:  # outside any workflow, or inside a step (part of that step)
        return (await database.run(func, args, kwargs, isolation_level, None))[0]
    runtime = get_runtime()
    ctx, step_id = begun.ctx, begun.step_id
    if ctx.resumed:
        # Committed before a crash that came before its step record: do not run it again.
        found, output = await database.recorded_output(ctx.workflow_id, step_id)
        if found:
            await off_loop(
                write_checkpoint, runtime, ctx, step_id, name, output, None, begun.started_at
            )
            return runtime.decode(output, runtime.serializer.name())
    token = current_step.set(StepContext(ctx.workflow_id, step_id, in_transaction=True))
    try:
        result, output = await database.run(
            func,
            args,
            kwargs,
            isolation_level,
            (ctx.workflow_id, step_id, runtime.serializer.serialize),
        )
    except Exception as exc:
        current_step.reset(token)
        await off_loop(begun.fail, exc)
        raise
    current_step.reset(token)
    await off_loop(write_checkpoint, runtime, ctx, step_id, name, output, None, begun.started_at)
    return result
