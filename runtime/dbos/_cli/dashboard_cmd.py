"""`dbos dashboard`: the command's side (the server lives in `dbos._dashboard`)."""

from __future__ import annotations

import argparse


def dashboard_cmd(url: str, args: argparse.Namespace) -> None:
    from .._dashboard.server import serve

    serve(url, args.schema, args.host, args.port, args.read_only, args.token)
