"""The dashboard's HTML pages, rendered on the server (so they read without JavaScript; the
shipped script only refreshes them and posts the buttons' actions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .._admin import queues, schedules, views
from .._admin.values import duration, short, when
from .api import session_of
from .params import form_values, partitions_shown, workflow_filter

_TEMPLATES = Path(__file__).with_name("templates")


def _pretty(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(when=when, duration=duration, short=short, pretty=_pretty)
    env.globals.update(statuses=views.STATUSES, is_finished=views.is_finished)
    return env


def _render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template(template).render(
        read_only=request.app.state.read_only, path=request.url.path, **values
    )
    return HTMLResponse(html, status_code=status_code)


def workflow_list(request: Request) -> HTMLResponse:
    workflow_filter_ = workflow_filter(request.query_params)
    found = views.list_workflows(session_of(request), workflow_filter_, values=False)
    return _render(
        request,
        "list.html",
        workflows=found,
        form=form_values(request.query_params),
        query=str(request.query_params),
    )


def workflow_page(request: Request) -> HTMLResponse:
    timeline = views.timeline(session_of(request), request.path_params["workflow_id"])
    started = timeline["workflow"]["created_at"]
    return _render(request, "workflow.html", t=timeline, w=timeline["workflow"], started=started)


def queues_page(request: Request) -> HTMLResponse:
    s = session_of(request)
    return _render(request, "queues.html", queues=queues.queues(s), workers=views.workers(s))


def queue_page(request: Request) -> HTMLResponse:
    shown = partitions_shown(request.query_params)
    q = queues.queue(session_of(request), request.path_params["queue_name"], shown)
    return _render(request, "queue.html", q=q, shown=shown)


def schedules_page(request: Request) -> HTMLResponse:
    return _render(
        request, "schedules.html", schedules=schedules.list_schedules(session_of(request))
    )


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    return _render(request, "error.html", status_code=status_code, message=message)
