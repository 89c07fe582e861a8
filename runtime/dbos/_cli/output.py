"""How the `dbos` command prints: aligned tables for people, `--json` for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from .._admin.values import short


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return short(value, 48)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    out = sys.stdout
    out.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def error_text(error: dict[str, Any] | None) -> str:
    if error is None:
        return "-"
    return short(f"{error['type']}: {error['message']}", 60)
