"""Where in the application's code a replay stopped: the innermost frame of a traceback that
is neither the runtime's nor the standard library's (the user's call of the step, or the line
awaiting the `asyncio.gather` that called it), as a linter prints it: `path:line`."""

from __future__ import annotations

import inspect
import os
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

_RUNTIME_DIR = str(Path(__file__).resolve().parent.parent)
_STDLIB_DIRS = tuple(
    {
        str(Path(p).resolve())
        for k in ("stdlib", "platstdlib")
        if (p := sysconfig.get_paths().get(k))
    }
)


def _is_library(filename: str) -> bool:
    if filename.startswith("<"):
        return True  # <frozen ...>, <string>: nothing a person could open
    path = os.path.realpath(filename)
    if path.startswith(_RUNTIME_DIR + os.sep):
        return True
    return any(path.startswith(d + os.sep) for d in _STDLIB_DIRS) and "site-packages" not in path


def shown_path(filename: str) -> str:
    """Relative to the working directory when below it, as linters print paths."""
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive (Windows)
        return filename
    return filename if relative.startswith("..") else relative


def user_frame(tb: TracebackType | None) -> tuple[str, int] | None:
    """(file, line) of the innermost application frame of `tb`, if it has one."""
    for frame, lineno in reversed(list(traceback.walk_tb(tb))):
        filename = frame.f_code.co_filename
        if not _is_library(filename):
            return shown_path(filename), lineno
    return None


def definition_site(func: Callable[..., Any]) -> tuple[str, int]:
    """Where a function is defined: the fallback when no application frame is at hand (the
    workflow returned, or failed where its own code was not on the stack)."""
    target = inspect.unwrap(func)
    try:
        filename = inspect.getsourcefile(target) or inspect.getfile(target)
        _, line = inspect.getsourcelines(target)
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        if code is None:
            return "<unknown>", 0
        return shown_path(code.co_filename), code.co_firstlineno
    return shown_path(filename), line
