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

from .._error import (
    DBOSConflictingRegistrationError,
    DBOSDuplicateRegistrationError,
    DBOSException,
)


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
    # `DBOS.required_roles`, and the default of its class (`DBOS.default_required_roles`).
    required_roles: tuple[str, ...] | None = None
    class_required_roles: tuple[str, ...] | None = None

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
# `DBOS.destroy(destroy_registry=True)` starts a new generation: classes and instances
# registered before it stay resolvable (recovery still finds them) but may be registered anew
# under their names, as upstream's fresh registry allows; within a generation a second one is
# refused.
_generation = 0
_registered_in: dict[object, int] = {}


def new_generation() -> None:
    global _generation
    with _lock:
        _generation += 1


def _taken(key: object, existing: object | None, new: object) -> bool:
    return existing is not None and existing is not new and _registered_in[key] == _generation


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
                    f"Operation (Name: {info.name}) is already registered with a conflicting "
                    f"function type: it is a {existing.kind}, and cannot also be a {info.kind}",
                )
            if existing.location != info.location and not is_temporary(info):
                old_file, old_line, _ = existing.location
                new_file, new_line, _ = info.location
                logger.warning(
                    "Duplicate registration of function %r (a %s: %s:%d, then %s:%d); the "
                    "later one wins. Give one of them name=... if both should exist",
                    info.name,
                    info.kind,
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
    """Register a class under the name recovery finds it by; a second, different class under
    a name already taken is refused (recovery could not tell which one a workflow needs)."""
    with _lock:
        if _taken(name, _classes.get(name), cls):
            raise DBOSDuplicateRegistrationError(
                name, f"Duplicate type registration for class '{name}'"
            )
        _classes[name] = cls
        _registered_in[name] = _generation


def get_class(name: str) -> type | None:
    return _classes.get(name)


def register_instance(class_name: str, config_name: str, instance: object) -> None:
    """Register a configured instance; a second object under the same class and config name
    is refused (recovery finds the instance by those names)."""
    with _lock:
        key = (class_name, config_name)
        if _taken(key, _instances.get(key), instance):
            raise DBOSDuplicateRegistrationError(
                class_name,
                f"Duplicate instance registration for class '{class_name}' "
                f"instance '{config_name}'",
            )
        _instances[key] = instance
        _registered_in[key] = _generation


def get_instance(class_name: str, config_name: str) -> object | None:
    return _instances.get((class_name, config_name))


def dbos_class_name(cls: type) -> str:
    return str(getattr(cls, "_dbos_class_name", cls.__qualname__))


def info_of(func: Callable[..., Any]) -> FunctionInfo:
    """The registration behind a decorated function (bound methods included)."""
    target = getattr(func, "__func__", func)
    info = getattr(target, "__dbos_info__", None)
    if not isinstance(info, FunctionInfo):
        raise TypeError(
            f"{getattr(func, '__qualname__', func)!r} is not decorated with "
            "@DBOS.workflow() or @DBOS.step()"
        )
    return info


def bound_args(func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Prepend `self`/`cls` when a bound method is passed to start_workflow."""
    owner = getattr(func, "__self__", None)
    return (owner, *args) if owner is not None else args
