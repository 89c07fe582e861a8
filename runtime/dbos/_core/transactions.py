"""`@DBOS.transaction()`: a step whose SQL and checkpoint commit in one database transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._db.application import ApplicationDatabase, current_session
from .._error import DBOSException
from .._registry import registry as _registry
from .checkpoint import Replayed, active_workflow, begin_step, write_checkpoint
from .context import StepContext, current_step, current_workflow
from .runtime import get_runtime
from .workflows import call_workflow


def run_transaction(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    isolation_level: str,
    database: ApplicationDatabase | None = None,
) -> Any:
    """Run `func` in one transaction of `database` (a datasource's; by default the application
    database), its output committed with it, so that it runs once even across a crash.

    A datasource's transaction outside any workflow (before `DBOS.launch()` too) or inside a
    step is a plain transaction, as upstream runs it: nothing is recorded."""
    if current_session.get() is not None:
        return func(*args, **kwargs)  # nested in another transaction: part of it
    if database is not None and active_workflow() is None:
        database.ready()
        return database.run(func, args, kwargs, isolation_level, None)[0]
    runtime = get_runtime()
    app = database or runtime.app_db
    if app is None:
        raise DBOSException("DBOS has no application database: set application_database_url")
    if current_workflow.get() is None:
        # Outside any workflow: a workflow of this one transaction, so that its output is
        # recorded and a retry of the call with the same workflow ID does not run it again.
        temporary = _registry.get_function(_registry.temporary_workflow_name(name))
        if temporary is not None:
            return call_workflow(temporary, args, kwargs)
    begun = begin_step(name, "transaction")
    if isinstance(begun, Replayed):
        return begun.value()  # recorded: its database is not even opened (a replay needs none)
    if database is not None:
        try:
            database.ready()
        except BaseException as exc:
            if begun is not None:
                begun.end_span(exc)
            raise
    if begun is None:  # inside a step: part of that step
        return app.run(func, args, kwargs, isolation_level, None)[0]
    ctx, step_id = begun.ctx, begun.step_id
    if ctx.resumed:
        # Committed before a crash that came before its step record: do not run it again.
        found, output = app.recorded_output(ctx.workflow_id, step_id)
        if found:
            begun.end_span(None)
            write_checkpoint(runtime, ctx, step_id, name, output, None, begun.started_at)
            return runtime.decode(output, runtime.serializer.name())
    token = current_step.set(StepContext(ctx.workflow_id, step_id, in_transaction=True))
    try:
        result, output = app.run(
            func,
            args,
            kwargs,
            isolation_level,
            (ctx.workflow_id, step_id, runtime.serializer.serialize),
        )
    except Exception as exc:
        current_step.reset(token)
        begun.fail(exc)
        raise
    current_step.reset(token)
    begun.end_span(None)
    write_checkpoint(runtime, ctx, step_id, name, output, None, begun.started_at)
    return result
