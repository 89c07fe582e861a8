"""The dashboard's JSON endpoints: the page's live updates poll them, its buttons post to
them, and scripts may use them. Sync handlers: Starlette runs them on its thread pool, where
blocking database calls belong."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from .._admin import actions, queues, schedules, views
from .._admin.connect import AdminSession
from .params import BadRequest, fork_step, partitions_shown, workflow_filter


def session_of(request: Request) -> AdminSession:
    s: AdminSession = request.app.state.session
    return s


def _json(value: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(value, status_code=status_code)


def list_workflows(request: Request) -> JSONResponse:
    found = views.list_workflows(session_of(request), workflow_filter(request.query_params), False)
    return _json({"workflows": found})


def get_workflow(request: Request) -> JSONResponse:
    return _json(views.timeline(session_of(request), request.path_params["workflow_id"]))


def list_queues(request: Request) -> JSONResponse:
    return _json({"queues": queues.queues(session_of(request))})


def get_queue(request: Request) -> JSONResponse:
    """One queue, with its largest partitions (`?partitions=` of them, 10 by default)."""
    name = request.path_params["queue_name"]
    shown = partitions_shown(request.query_params)
    return _json(queues.queue(session_of(request), name, shown))


def list_workers(request: Request) -> JSONResponse:
    return _json({"workers": views.workers(session_of(request))})


def list_schedules(request: Request) -> JSONResponse:
    return _json({"schedules": schedules.list_schedules(session_of(request))})


def get_schedule(request: Request) -> JSONResponse:
    return _json(schedules.get_schedule(session_of(request), request.path_params["name"]))


def pause_schedule(request: Request) -> JSONResponse:
    return _json(schedules.pause(session_of(request), request.path_params["name"]))


def resume_schedule(request: Request) -> JSONResponse:
    return _json(schedules.resume(session_of(request), request.path_params["name"]))


async def _body(request: Request) -> object:
    if not await request.body():
        return {}
    try:
        return await request.json()
    except ValueError:
        raise BadRequest("the request body is not JSON") from None


def cancel(request: Request) -> JSONResponse:
    workflow_id = request.path_params["workflow_id"]
    status = actions.cancel(session_of(request), workflow_id)
    return _json({"workflow_id": workflow_id, "status": status})


def resume(request: Request) -> JSONResponse:
    workflow_id = request.path_params["workflow_id"]
    status = actions.resume(session_of(request), workflow_id)
    return _json({"workflow_id": workflow_id, "status": status})


async def fork(request: Request) -> JSONResponse:
    step = fork_step(await _body(request))
    workflow_id = request.path_params["workflow_id"]
    new_id = await run_in_threadpool(actions.fork, session_of(request), workflow_id, step)
    return _json({"workflow_id": new_id, "forked_from": workflow_id, "step": step})
