"""Stable names for decorated functions, classes and configured instances.

The registry is process-global and outlives `DBOS.destroy()`: decorators run at import time, once,
while a test suite may build and destroy many DBOS instances in one process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._error import DBOSConflictingRegistrationError, DBOSException


@dataclass
class FunctionInfo:
    """What the runtime needs to run or recover one decorated function."""

    name: str
    kind: str  # "workflow", "step" or "transaction"
    func: Callable[..., Any]
    is_async: bool
    takes_self: bool  # first parameter is `self` (instance) or `cls` (classmethod)
    max_recovery_attempts: int | None = 100
    step_options: dict[str, Any] = field(default_factory=dict)
    isolation_level: str | None = None  # transactions only
    shape: str | None = None  # compiled workflows: fingerprint of their durable shape
    serialization_type: str | None = None  # workflows: "portable" or "native"; None: default
    wrapper: Callable[..., Any] | None = None

    @property
    def location(self) -> tuple[str, int, str]:
        code = getattr(self.func, "__code__", None)
        if code is None:
            return ("", 0, getattr(self.func, "__qualname__", repr(self.func)))
        return (code.co_filename, code.co_firstlineno, self.func.__qualname__)


logger = logging.getLogger("dbos")
_lock = threading.Lock()
_functions: dict[str, FunctionInfo] = {}
_classes: dict[str, type] = {}
_instances: dict[tuple[str, str], object] = {}


def register_function(info: FunctionInfo) -> None:
    """Register a name; the latest definition under a name is the one recovery runs.

    A definition seen again (a module re-imported in a notebook or a test run) replaces itself
    quietly; a different function under a name already taken replaces it with a warning, as in
    upstream DBOS. A name cannot change kind (a workflow's name cannot become a step's).
    """
    with _lock:
        existing = _functions.get(info.name)
        if existing is not None:
            if existing.kind != info.kind:
                raise DBOSConflictingRegistrationError(
                    info.name,
                    f"{info.name!r} is already registered as a {existing.kind}; "
                    f"it cannot also be a {info.kind}",
                )
            if existing.location != info.location:
                old_file, old_line, _ = existing.location
                new_file, new_line, _ = info.location
                logger.warning(
                    "Two different functions are registered as %s %r (%s:%d, then %s:%d); "
                    "the later one wins. Give one of them name=... if both should exist",
                    info.kind,
                    info.name,
                    old_file,
                    old_line,
                    new_file,
                    new_line,
                )
        _functions[info.name] = info


def get_function(name: str) -> FunctionInfo | None:
    return _functions.get(name)


TEMPORARY_PREFIX = "<temp>."


def temporary_workflow_name(operation_name: str) -> str:
    """The one-operation workflow a step or transaction runs as when started on its own, or a
    transaction when called outside any workflow (upstream's `<temp>.<name>`)."""
    return TEMPORARY_PREFIX + operation_name


def is_temporary(info: FunctionInfo) -> bool:
    return info.name.startswith(TEMPORARY_PREFIX)


def startable(info: FunctionInfo) -> FunctionInfo:
    """The workflow that `start_workflow` or `enqueue` of this function starts."""
    if info.kind == "workflow":
        return info
    temporary = _functions.get(temporary_workflow_name(info.name))
    if temporary is None:
        raise DBOSException(
            f"{info.name!r} is a {info.kind}, which cannot be started as a workflow"
        )
    return temporary


def all_functions() -> list[FunctionInfo]:
    with _lock:
        return list(_functions.values())


def register_class(name: str, cls: type) -> None:
    with _lock:
        existing = _classes.get(name)
        if existing is not None and (
            existing.__module__ != cls.__module__ or existing.__qualname__ != cls.__qualname__
        ):
            raise DBOSConflictingRegistrationError(
                name, f"Two different classes are registered as {name!r}"
            )
        _classes[name] = cls


def get_class(name: str) -> type | None:
    return _classes.get(name)


def register_instance(class_name: str, config_name: str, instance: object) -> None:
    with _lock:
        _instances[(class_name, config_name)] = instance


def get_instance(class_name: str, config_name: str) -> object | None:
    return _instances.get((class_name, config_name))


def dbos_class_name(cls: type) -> str:
    return str(getattr(cls, "_dbos_class_name", cls.__qualname__))
