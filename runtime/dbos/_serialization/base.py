"""The serializer interface, and the tag that marks an encoded object in stored JSON."""

from __future__ import annotations

import abc
import enum
import sys
from typing import Any


class Serializer(abc.ABC):
    """Pluggable value format; same shape as upstream DBOS so users' serializers keep working."""

    def name(self) -> str:
        """Stored next to each value so a row is always read back with the format that wrote it.

        Not abstract because serializers written for upstream DBOS may not define it.
        """
        return "custom_serializer"

    @abc.abstractmethod
    def serialize(self, obj: Any) -> str: ...

    @abc.abstractmethod
    def deserialize(self, text: str) -> Any: ...


_TAG = "__dbos__"


def _type_name(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _pydantic_base() -> type | None:
    # Only consult pydantic if the application imported it: no model can exist otherwise.
    mod = sys.modules.get("pydantic")
    base = getattr(mod, "BaseModel", None) if mod is not None else None
    return base if isinstance(base, type) else None


def _sqlalchemy_row_class(name: str) -> type | None:
    """SQLAlchemy's `Row` or `RowMapping`, if the application imported SQLAlchemy's result
    rows (no row can exist otherwise, and nothing is imported here)."""
    mod = sys.modules.get("sqlalchemy.engine.row")
    cls = getattr(mod, name, None) if mod is not None else None
    return cls if isinstance(cls, type) else None


def _plain_str(value: Any) -> str | None:
    """A str subclass that is just text (SQLAlchemy's `quoted_name`: the keys of `dict(row)`)
    as the plain str it stands for; None for an enum member, whose type a replay needs."""
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        return str.__str__(value)
    return None


_OBJECT_NEW: Any = object.__new__
_OBJECT_GETSTATE = getattr(object, "__getstate__", None)  # Python 3.11+


def _is_plain_class(cls: type) -> bool:
    """A class whose instances are just their `__dict__`: made by `object.__new__`, without
    slots or pickling hooks of its own. Such an instance is stored as its attributes and read
    back as `object.__new__(cls)` with them, running no code of the class (as unpickling does
    for it, without unpickling's reach)."""
    if getattr(cls, "__new__", None) is not _OBJECT_NEW or cls.__module__ == "builtins":
        return False
    if getattr(cls, "__del__", None) is not None:
        return False  # a finalizer would run the class's code on attributes a row chose
    if any("__slots__" in vars(k) for k in cls.__mro__[:-1]):
        return False
    return (
        getattr(cls, "__reduce_ex__", None) is object.__reduce_ex__
        and getattr(cls, "__reduce__", None) is object.__reduce__
        and getattr(cls, "__setstate__", None) is None
        and getattr(cls, "__getstate__", None) is _OBJECT_GETSTATE
    )


def _exception_args(exc: BaseException) -> tuple[Any, ...]:
    # DBOS errors (and other well-behaved classes) say through __reduce__ how to rebuild them.
    try:
        reduced = exc.__reduce__()
    except Exception:
        reduced = None
    if (
        isinstance(reduced, tuple)
        and len(reduced) >= 2
        and reduced[0] is type(exc)
        and isinstance(reduced[1], tuple)
    ):
        return reduced[1]
    return tuple(exc.args)


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {_type_name(type(exc))}>"


def _resolve_class(module: str, qualname: str) -> type | None:
    """Finds a class by name without importing anything or running attribute hooks."""
    mod = sys.modules.get(module)
    if mod is None:
        return None
    obj: Any = mod
    for part in qualname.split("."):
        try:
            namespace = vars(obj)
        except TypeError:
            return None
        obj = namespace.get(part)
        if obj is None:
            return None
    return obj if isinstance(obj, type) else None
