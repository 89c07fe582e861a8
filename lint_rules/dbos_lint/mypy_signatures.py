"""Signature serializability for the mypy plugin, judged on the types mypy resolved.

The libcst checker reads annotations as written and follows aliases it can see; here mypy has
already expanded every alias (``Sock: TypeAlias = socket.socket``, a ``NewType``, an alias
imported from an untyped corner of the project), so a parameter whose type *is* a socket is
reported however it was spelled. The tables are the checker's (``names``, ``objects``), so both
tools refuse the same types with the same codes.
"""

from __future__ import annotations

from collections.abc import Iterable

from mypy.types import (
    CallableType,
    Instance,
    TupleType,
    Type,
    TypedDictType,
    UnboundType,
    UnionType,
    get_proper_type,
)

from dbos_lint.catalogue import names as n
from dbos_lint.catalogue import objects as o
from dbos_lint.catalogue.dbos60x_signatures import UNSERIALIZABLE_TYPES

#: Nested types are followed this deep (recursive aliases end here).
_MAX_DEPTH = 8


def _public(fullname: str) -> str:
    return o.public_class(n.MYPY_ALIASES.get(fullname, fullname))


def _refused(fullname: str) -> bool:
    name = _public(fullname)
    return name in UNSERIALIZABLE_TYPES or o.client_code(name) is not None


def unrecordable(typ: Type, depth: int = 0) -> str | None:
    """The public name of the first type inside ``typ`` that cannot be recorded, if any."""
    if depth > _MAX_DEPTH:
        return None
    proper = get_proper_type(typ)
    if isinstance(proper, CallableType):
        return "typing.Callable"
    if isinstance(proper, Instance):
        for base in proper.type.mro:
            if _refused(base.fullname):
                return _public(base.fullname)
        return _first(proper.args, depth)
    if isinstance(proper, UnionType):
        return _first(proper.items, depth)
    if isinstance(proper, TupleType):
        return _first(proper.items, depth)
    if isinstance(proper, TypedDictType):
        return _first(proper.items.values(), depth)
    return None


def _first(types: Iterable[Type], depth: int) -> str | None:
    for item in types:
        found = unrecordable(item, depth + 1)
        if found is not None:
            return found
    return None


def written(annotation: Type | None) -> str | None:
    """The annotation as the user spelled it (before aliases were expanded), when known."""
    if isinstance(annotation, UnboundType) and not annotation.args:
        return annotation.name  # a bare name: an alias, or the type itself
    return None


def shown(bad: str, spelled: str | None) -> str:
    """How the message names the type: as the checker does (``Sock`` (which names ...))."""
    if spelled is None or bad.rsplit(".", 1)[-1] in spelled:
        return f"`{bad}`"
    return f"`{spelled}` (which names `{bad}`)"
