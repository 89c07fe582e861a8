"""Project classes: their method resolution order and what an attribute of one of them is.

``self._helper()`` in a workflow method must find ``_helper`` where Python would: on the class,
on a base class or a mixin (in this module or another one of the project), or as an attribute
some method assigned (``self.http = requests.Session()`` in ``__init__``). A base class that is
not part of the project (``DBOSConfiguredInstance``, ``object``) contributes nothing we know
of, so a name not found in the project's classes is unknown rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dbos_lint.analysis.parsed_module import ClassInfo, FunctionInfo
from dbos_lint.analysis.scopes import Binding
from dbos_lint.analysis.values import ProjClass, ProjInst, Value


class BaseResolver(Protocol):
    """What the class model asks of the evaluator: a memo for MROs, and what a class's bases
    evaluate to (a Protocol, so that the evaluator, which uses this model, is not imported)."""

    @property
    def mro_cache(self) -> dict[ClassInfo, list[ClassInfo]]: ...

    def base_classes(self, cls: ClassInfo) -> list[Value]: ...


@dataclass(frozen=True, slots=True)
class Member:
    """Where an attribute of a project class was found."""

    owner: ClassInfo
    method: FunctionInfo | None = None
    #: Bindings in the class body (class attributes), when it is not a method: the class
    #: scope's own list.
    bindings: list[Binding] | None = None


def mro(evaluator: BaseResolver, cls: ClassInfo) -> list[ClassInfo]:
    """C3 linearisation over the project classes among the bases (outside bases dropped)."""
    cached = evaluator.mro_cache.get(cls)
    if cached is not None:
        return cached
    evaluator.mro_cache[cls] = [cls]  # a cyclic hierarchy (invalid Python) stops here
    bases = [b.cls for b in evaluator.base_classes(cls) if isinstance(b, ProjClass)]
    sequences = [mro(evaluator, b) for b in bases] + [bases]
    result = [cls]
    while True:
        sequences = [s for s in sequences if s]
        if not sequences:
            break
        for seq in sequences:
            head = seq[0]
            if not any(head in s[1:] for s in sequences):
                break
        else:  # inconsistent order: fall back to depth-first, which is what most code means
            result += [c for s in sequences for c in s if c not in result]
            break
        result.append(head)
        sequences = [s[1:] if s[0] is head else s for s in sequences]
    evaluator.mro_cache[cls] = result
    return result


def find(
    evaluator: BaseResolver, cls: ClassInfo, name: str, after: ClassInfo | None = None
) -> Member | None:
    """The first class in ``cls``'s MRO (past ``after``, for ``super()``) defining ``name``."""
    order = mro(evaluator, cls)
    if after is not None:
        order = order[order.index(after) + 1 :] if after in order else []
    for klass in order:
        method = klass.methods.get(name)
        if method is not None:
            return Member(klass, method=method)
        found = klass.scope.bindings.get(name)
        if found:
            return Member(klass, bindings=found)
    return None


def instance_assignments(
    evaluator: BaseResolver, cls: ClassInfo, name: str
) -> list[tuple[ClassInfo, FunctionInfo, object]]:
    """``self.<name> = value`` in methods of ``cls`` or its project bases."""
    found: list[tuple[ClassInfo, FunctionInfo, object]] = []
    for klass in mro(evaluator, cls):
        for method, value in klass.instance_attrs().get(name, ()):
            found.append((klass, method, value))
    return found


def is_property(member: Member | None) -> bool:
    return member is not None and member.method is not None and member.method.is_property


def receiver_key(receiver: ProjInst | ProjClass | None) -> tuple[int, bool, bool] | None:
    if receiver is None:
        return None
    if isinstance(receiver, ProjClass):
        return (id(receiver.cls), False, True)
    return (id(receiver.cls), receiver.shared, False)
