"""`@DBOS.required_roles([...])` and `@DBOS.default_required_roles([...])`: which roles a
function needs, kept on its registration (the checks are the checkpoint core's, `_core/auth.py`,
so decorated and generated code check alike)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from . import registry as _registry
from .registry import FunctionInfo


def roles_tuple(roles: object, what: str) -> tuple[str, ...] | None:
    """A list of role names as given by the user, checked: None, or a list of strings."""
    if roles is None:
        return None
    if isinstance(roles, str) or not isinstance(roles, Sequence):
        raise TypeError(f"{what} must be a list of role names, got {roles!r}")
    if not all(isinstance(r, str) for r in roles):
        raise TypeError(f"{what} must be a list of role names (strings), got {roles!r}")
    return tuple(roles)


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T", bound=type)

# Set on a plain function by `required_roles` placed below `@DBOS.workflow()` (or a step or a
# transaction decorator), which reads it when it registers the function.
ROLES_ATTRIBUTE = "__dbos_required_roles__"


def _registration(func: Any) -> tuple[Any, FunctionInfo | None]:
    target = func.__func__ if isinstance(func, (staticmethod, classmethod)) else func
    info = getattr(target, "__dbos_info__", None)
    return target, info if isinstance(info, FunctionInfo) else None


def required_roles(roles: list[str]) -> Callable[[F], F]:
    """The function runs only for a user holding one of `roles` (above or below the DBOS
    decorator); an empty list lifts its class's default."""
    checked = roles_tuple(roles, "required_roles")

    def decorate(func: F) -> F:
        target, info = _registration(func)
        if info is not None:
            info.required_roles = checked
        elif callable(target):
            setattr(target, ROLES_ATTRIBUTE, checked)
        else:
            raise TypeError(f"@DBOS.required_roles applies to functions, not {func!r}")
        return func

    return decorate


def roles_set_below(func: Callable[..., Any]) -> tuple[str, ...] | None:
    """What a `required_roles` placed below a DBOS decorator left on the function."""
    roles: tuple[str, ...] | None = getattr(func, ROLES_ATTRIBUTE, None)
    return roles


def default_required_roles(roles: list[str]) -> Callable[[T], T]:
    """Every DBOS function of the class needs one of `roles`, unless it says otherwise with
    its own `required_roles`. Registers the class, as `DBOS.dbos_class()` does."""
    checked = roles_tuple(roles, "default_required_roles")

    def decorate(cls: T) -> T:
        if not isinstance(cls, type):
            raise TypeError(f"@DBOS.default_required_roles applies to classes, not {cls!r}")
        name = str(vars(cls).get("_dbos_class_name", cls.__qualname__))
        _registry.register_class(name, cls)
        cls._dbos_class_name = name  # type: ignore[attr-defined]
        for member in vars(cls).values():
            _, info = _registration(member)
            if info is not None:
                info.class_required_roles = checked
        return cls

    return decorate
