"""Import-time support for generated modules: refuse a module whose source changed since it
was built (naming both files), and point tracebacks at the user's file and lines.

A generated module is its source with a header of ``header_lines`` lines on top, every other
line kept in place. Each decorated function is relocated as it is decorated (:func:`located`),
before registration; once the module has run, :func:`relocate` rewrites the code objects of
the other functions it defined (``co_filename`` the source file, first line moved up by the
header), so a traceback, ``inspect.getsource`` and the application-version hash (which reads
workflow source) all see the user's file, exactly as with decorated code.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType, FunctionType
from typing import Any, TypeVar

from .._registry.registry import info_of
from .calls import direct_call

F = TypeVar("F", bound=Callable[..., Any])

#: Bumped when what generated code calls changes shape; a module built for another is refused.
ABI = 1


@dataclass(frozen=True)
class _Origin:
    generated: str
    source: str | None  # None: the source is not deployed next to the build (nothing to check)
    header_lines: int


_origins: dict[str, _Origin] = {}


def require(
    abi: int, module: str, generated: str, source: str, sha256: str, header_lines: int
) -> None:
    """First statement of a generated module. ``source`` is relative to the generated file's
    directory; when that file exists, its hash must be the one the module was built from."""
    if abi != ABI:
        raise ImportError(
            f"{generated} was generated for dbos-compile ABI {abi}, this runtime has {ABI}: "
            "re-run dbos-compile build"
        )
    path = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(generated)), source))
    if not os.path.isfile(path):
        _origins[module] = _Origin(generated, None, header_lines)
        return
    with open(path, "rb") as handle:
        current = hashlib.sha256(handle.read()).hexdigest()
    if current != sha256:
        raise ImportError(
            f"{generated} is stale: its source {path} has changed since it was generated; "
            "re-run dbos-compile build"
        )
    _origins[module] = _Origin(generated, path, header_lines)


def located(
    decorator: Callable[[F], F], site: str | None = None, shape: str | None = None
) -> Callable[[F], F]:
    """``@_dbos_rt.located(DBOS.workflow(), "_dbos_wf_name", "<shape>")``: relocate the function
    before it is registered, so what the registry holds is the user's code; bind ``site`` in
    the module to the direct checkpoint-core call that the generated workflows make instead of
    calling the decorated function; and record a workflow's durable-shape fingerprint, which
    the application version is made of instead of its source text."""

    def apply(func: F) -> F:
        origin = _origins.get(getattr(func, "__module__", ""))
        if origin is not None and origin.source is not None:
            _relocate_value(func, os.path.abspath(origin.generated), origin, set())
        decorated = decorator(func)
        if site is not None:
            func.__globals__[site] = direct_call(decorated)
        if shape is not None:
            info_of(decorated).shape = shape
        return decorated

    return apply


def relocate(namespace: dict[str, Any]) -> None:
    """Last statement of a generated module: move its functions' code to the source's lines."""
    origin = _origins.get(str(namespace.get("__name__")))
    if origin is None or origin.source is None:
        return
    generated = os.path.abspath(origin.generated)
    seen: set[int] = set()
    for value in list(namespace.values()):
        _relocate_value(value, generated, origin, seen)


def _relocate_value(value: Any, generated: str, origin: _Origin, seen: set[int]) -> None:
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, (staticmethod, classmethod)):
        _relocate_value(value.__func__, generated, origin, seen)
    elif isinstance(value, property):
        for accessor in (value.fget, value.fset, value.fdel):
            _relocate_value(accessor, generated, origin, seen)
    elif isinstance(value, type):
        for member in list(vars(value).values()):
            _relocate_value(member, generated, origin, seen)
    elif isinstance(value, FunctionType):
        if os.path.abspath(value.__code__.co_filename) == generated:
            value.__code__ = _moved(value.__code__, origin)
        # A decorated function: the wrapper lives in dbos, the user's function under it.
        _relocate_value(getattr(value, "__wrapped__", None), generated, origin, seen)
        info = getattr(value, "__dbos_info__", None)
        if info is not None:
            _relocate_value(info.func, generated, origin, seen)


def _moved(code: CodeType, origin: _Origin) -> CodeType:
    assert origin.source is not None
    consts = tuple(_moved(c, origin) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(
        co_filename=origin.source,
        co_firstlineno=max(1, code.co_firstlineno - origin.header_lines),
        co_consts=consts,
    )
