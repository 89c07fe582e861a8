"""The abstract values the checker tracks: what an expression *is*, as far as rules care.

Kept deliberately small. A value is either something outside the project named by its
qualified name (:class:`Ext`: a module, function, class or attribute reached by a plain path),
an object of a known outside class (:class:`Inst`), a method of such an object
(:class:`Method`), or a piece of the project itself (a module, function, class, instance or
bound method). Everything else is :data:`UNKNOWN`, and no rule ever fires on an unknown value:
that is how the checker stays free of false positives while it follows values through aliases,
attributes and calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from dbos_lint.analysis.parsed_module import ClassInfo, FunctionInfo, ParsedModule
    from dbos_lint.analysis.scopes import Scope


class Value:
    """Base of all abstract values."""

    __slots__ = ()

    #: Iteration order comes from a set (hash order), so it can change between processes.
    unordered: bool = False


@dataclass(frozen=True, slots=True)
class Unknown(Value):
    pass


UNKNOWN = Unknown()


@dataclass(frozen=True, slots=True)
class Ext(Value):
    """A name outside the project, e.g. ``time.time`` or ``os.environ``."""

    name: str


@dataclass(frozen=True, slots=True, eq=False)
class Inst(Value):
    """An object of the outside class ``cls`` (``builtins.set``, ``requests.Session``...).

    ``unseeded``: a generator built without a seed. ``shared``: the object lives at module or
    class level, so every workflow of the process sees (and mutates) the same one.
    ``origin``: the call that made it, so a finding on its methods can defer to one on its
    construction. ``what``: how messages describe it (``"a set literal"``).
    """

    cls: str
    unseeded: bool = False
    shared: bool = False
    unordered: bool = False
    origin: cst.CSTNode | None = field(default=None, compare=False)
    what: str = ""

    def same(self, other: Value) -> bool:
        return (
            isinstance(other, Inst)
            and other.cls == self.cls
            and other.unseeded == self.unseeded
            and other.shared == self.shared
            and other.unordered == self.unordered
        )


@dataclass(frozen=True, slots=True)
class Method(Value):
    """``obj.name`` for an outside object: meaningful when called."""

    obj: Inst
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class ProjModule(Value):
    module: ParsedModule


@dataclass(frozen=True, slots=True, eq=False)
class ProjFunc(Value):
    func: FunctionInfo


@dataclass(frozen=True, slots=True, eq=False)
class ProjClass(Value):
    cls: ClassInfo


@dataclass(frozen=True, slots=True, eq=False)
class ProjInst(Value):
    cls: ClassInfo
    shared: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Bound(Value):
    """A project method looked up on an instance (or a classmethod on its class)."""

    func: FunctionInfo
    receiver: ProjInst | ProjClass


@dataclass(frozen=True, slots=True, eq=False)
class Super(Value):
    """``super()`` inside a method of ``after``: lookups continue past it in the MRO."""

    receiver: ProjInst | ProjClass
    after: ClassInfo


@dataclass(frozen=True, slots=True, eq=False)
class Either(Value):
    """One of several project functions (``if sys.platform == ...: def f(): ... else: def
    f(): ...``): a call may run any of them, so each is followed."""

    options: tuple[ProjFunc | Bound | ProjClass, ...]


@dataclass(frozen=True, slots=True)
class Ordered(Value):
    """A value of unknown type known to iterate in set order (``list(s)``, ``enumerate(s)``)."""

    what: str
    unordered: bool = True


def same(a: Value, b: Value) -> bool:
    if isinstance(a, Inst):
        return a.same(b)
    if isinstance(a, Either):
        return (
            isinstance(b, Either)
            and len(a.options) == len(b.options)
            and all(same(x, y) for x, y in zip(a.options, b.options, strict=True))
        )
    if isinstance(a, (ProjModule, ProjFunc, ProjClass, ProjInst, Bound, Super)):
        return type(a) is type(b) and _identity(a) == _identity(b)
    return a == b


def _identity(v: Value) -> tuple[object, ...]:
    if isinstance(v, ProjModule):
        return (id(v.module),)
    if isinstance(v, ProjFunc):
        return (id(v.func),)
    if isinstance(v, ProjClass):
        return (id(v.cls),)
    if isinstance(v, ProjInst):
        return (id(v.cls), v.shared)
    if isinstance(v, Bound):
        return (id(v.func), *_identity(v.receiver))
    if isinstance(v, Super):
        return (id(v.after), *_identity(v.receiver))
    return ()


def join(values: Iterable[Value]) -> Value:
    """What a name holds when several bindings reach it: their common value, else unknown
    (but still unordered when every one of them is)."""
    found = list(values)
    if not found:
        return UNKNOWN
    first = found[0]
    if all(same(first, v) for v in found[1:]):
        return first
    options: list[ProjFunc | Bound | ProjClass] = []
    for v in found:
        if isinstance(v, Either):
            options.extend(v.options)
        elif isinstance(v, (ProjFunc, Bound, ProjClass)):
            options.append(v)
        else:
            break
    else:
        return Either(tuple(options))
    if all(v.unordered for v in found):
        return Ordered(what=_what(first))
    return UNKNOWN


def _what(v: Value) -> str:
    if isinstance(v, (Inst, Ordered)) and v.what:
        return v.what
    return "a set"


def describe(v: Value) -> str:
    """How a message names an unordered value."""
    return _what(v)


@dataclass(frozen=True, slots=True)
class Frame:
    """Where an expression is evaluated: its module, its scope, and what ``self`` is."""

    module: ParsedModule
    scope: Scope
    receiver: ProjInst | ProjClass | None = None

    def at(self, scope: Scope) -> Frame:
        return Frame(self.module, scope, self.receiver)


@dataclass(frozen=True, slots=True, eq=False)
class Symbol:
    """An import of a name defined in a project module (``from .helpers import compute``)."""

    module: ParsedModule
    name: str


#: What an imported dotted name stands for: an outside name, a project module, a name defined
#: in a project module, or unknown.
ImportTarget = Ext | ProjModule | Symbol | Value
