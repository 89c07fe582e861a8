"""The dashboard as a Starlette application: routes, the token check, the guard on actions
(read-only mode; a custom header, which no cross-site form can send, against CSRF), and
errors turned into 4xx answers with a message."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._admin.connect import AdminError, AdminSession, NotFound, first_line
from . import api, pages

TOKEN_COOKIE = "dbos_dashboard_token"
ACTION_HEADER = "x-dbos-dashboard"
_STATIC = Path(__file__).with_name("static")

Handler = Callable[[Request], Awaitable[Response]]


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status_code: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status_code)
    return pages.error_page(request, status_code, message)


# Sent with every answer: no page of another site may frame this one (clickjacking a cancel),
# scripts and styles come from here only, and nothing is sniffed into another type.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _host_name(header: str) -> str:
    """The name in a Host header, without its port (`[::1]:8080` -> `::1`)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _same(offered: str, token: str) -> bool:
    # Compared as bytes: compare_digest refuses str with characters beyond ASCII.
    return hmac.compare_digest(offered.encode("utf-8"), token.encode("utf-8"))


class Guard(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Handler) -> Response:
        response = await self._checked(request, call_next)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _checked(self, request: Request, call_next: Handler) -> Response:
        hosts: frozenset[str] | None = request.app.state.allowed_hosts
        if hosts is not None and _host_name(request.headers.get("host", "")) not in hosts:
            return _error(request, 421, "this dashboard does not serve that host name")
        token: str | None = request.app.state.token
        if token is not None:
            given = request.query_params.get("token")
            if given is not None and _same(given, token):
                # Once through the link with ?token=, the cookie carries it (and the URL
                # shown in the address bar no longer does).
                back = request.url.remove_query_params("token")
                redirect = RedirectResponse(str(back), status_code=303)
                redirect.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
                return redirect
            header = request.headers.get("authorization", "")
            offered = header.removeprefix("Bearer ") or request.cookies.get(TOKEN_COOKIE, "")
            if not _same(offered, token):
                return _error(request, 401, "a token is required: open the link with ?token=")
        if request.method == "POST":
            if request.app.state.read_only:
                return _error(request, 403, "the dashboard is read-only (--read-only)")
            if request.headers.get(ACTION_HEADER) != "1":
                return _error(request, 403, f"actions need the {ACTION_HEADER}: 1 header")
        return await call_next(request)


async def _admin_error(request: Request, exc: Exception) -> Response:
    return _error(request, 404 if isinstance(exc, NotFound) else 400, str(exc))


async def _database_error(request: Request, exc: Exception) -> Response:
    return _error(request, 503, f"system database unavailable: {first_line(exc)}")


async def _http_error(request: Request, exc: Exception) -> Response:
    code = int(getattr(exc, "status_code", 500))
    return _error(request, code, str(getattr(exc, "detail", "")) or "not found")


def build_app(
    session: AdminSession,
    read_only: bool = False,
    token: str | None = None,
    allowed_hosts: frozenset[str] | None = None,
) -> Starlette:
    """The dashboard over `session`. `allowed_hosts` (see `hosts.allowed_hosts()`): the Host names
    served; None serves any (an application mounting it behind its own checks)."""
    from starlette.exceptions import HTTPException

    app = Starlette(
        routes=[
            Route("/", pages.workflow_list),
            Route("/workflows/{workflow_id:path}", pages.workflow_page),
            Route("/queues", pages.queues_page),
            Route("/queues/{queue_name:path}", pages.queue_page),
            Route("/api/workflows", api.list_workflows),
            # Workflow IDs may hold "/": the actions' routes come first, so an ID is all of the
            # path before the action's name.
            Route("/api/workflows/{workflow_id:path}/cancel", api.cancel, methods=["POST"]),
            Route("/api/workflows/{workflow_id:path}/resume", api.resume, methods=["POST"]),
            Route("/api/workflows/{workflow_id:path}/fork", api.fork, methods=["POST"]),
            Route("/api/workflows/{workflow_id:path}", api.get_workflow),
            Route("/api/queues", api.list_queues),
            Route("/api/queues/{queue_name:path}", api.get_queue),
            Route("/api/workers", api.list_workers),
            Route("/schedules", pages.schedules_page),
            Route("/api/schedules", api.list_schedules),
            Route("/api/schedules/{name}", api.get_schedule),
            Route("/api/schedules/{name}/pause", api.pause_schedule, methods=["POST"]),
            Route("/api/schedules/{name}/resume", api.resume_schedule, methods=["POST"]),
            Mount("/static", StaticFiles(directory=_STATIC), name="static"),
        ],
        middleware=[Middleware(Guard)],
        exception_handlers={
            AdminError: _admin_error,
            sa.exc.SQLAlchemyError: _database_error,
            HTTPException: _http_error,
        },
    )
    app.state.session = session
    app.state.read_only = read_only
    app.state.token = token
    app.state.allowed_hosts = allowed_hosts
    app.state.templates = pages.environment()
    return app
