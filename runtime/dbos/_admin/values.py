"""Stored values as a person should see them: the JSON the runtime stored, never an object
rebuilt from it and never an unpickled one.

`dbos_json` text is parsed as plain JSON (tagged objects stay as they are stored, `{"__dbos__":
"tuple", "v": [...]}`), so showing a row runs no code a row could name. A value in another
format (a pickle the application opted into, a custom serializer) is shown as a note.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .._serialization import DEFAULT_SERIALIZER

_TAG = "__dbos__"


def display(text: str | None, fmt: str | None) -> Any:
    if text is None:
        return None
    if fmt not in (None, DEFAULT_SERIALIZER.name()):
        return f"<{len(text)} characters in format {fmt!r}, not decoded here>"
    try:
        return json.loads(text)
    except ValueError:
        return text


def display_error(text: str | None, fmt: str | None) -> dict[str, Any] | None:
    """An error as {type, message}: what a stored exception says, without rebuilding it."""
    value = display(text, fmt)
    if value is None:
        return None
    if isinstance(value, dict) and value.get(_TAG) == "exception":
        module, qualname = value.get("module"), value.get("qualname")
        name = qualname if module in (None, "builtins") else f"{module}.{qualname}"
        return {"type": str(name), "message": str(value.get("message", ""))}
    return {"type": "error", "message": value if isinstance(value, str) else json.dumps(value)}


def short(value: Any, width: int = 60) -> str:
    """One line of at most `width` characters, for tables."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def when(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return "-"
    return datetime.fromtimestamp(epoch_ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def duration(ms: int | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    if ms < 3_600_000:
        return f"{ms / 60_000:.1f}m"
    return f"{ms / 3_600_000:.1f}h"
