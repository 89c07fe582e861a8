"""Serving the dashboard: loopback unless told otherwise, and never beyond it without a
token; the socket is bound here so a taken port is one clear line, not a uvicorn trace."""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import quote

from .._admin.connect import AdminError, session
from .hosts import allowed_hosts, is_loopback

TOKEN_ENV = "DBOS_DASHBOARD_TOKEN"


def bind(host: str, port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise AdminError(f"--port must be between 0 and 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise AdminError(f"cannot bind {host}: {exc}") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise AdminError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(url: str, schema: str, host: str, port: int, read_only: bool, token: str | None) -> None:
    token = token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host) and token is None:
        raise AdminError(
            f"binding to {host} exposes the dashboard beyond this machine: give it a --token "
            f"(or ${TOKEN_ENV}), which every request must then carry"
        )
    try:
        import uvicorn

        from .app import build_app
    except ImportError as exc:
        raise AdminError(
            f"the dashboard needs {exc.name}: pip install 'dbos-durable[dashboard]'"
        ) from None
    with session(url, schema) as s:
        sock = bind(host, port)
        shown_host = f"[{host}]" if ":" in host else host
        link = f"http://{shown_host}:{sock.getsockname()[1]}/"
        if token is not None:
            link += f"?token={quote(token)}"
        mode = " (read-only)" if read_only else ""
        print(f"DBOS dashboard on {link}{mode}", flush=True)
        config = uvicorn.Config(
            build_app(s, read_only=read_only, token=token, allowed_hosts=allowed_hosts(host)),
            log_level="warning",
            access_log=False,
        )
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            sock.close()
        sys.stdout.flush()
