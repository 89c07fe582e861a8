"""Reading type annotations: which classes one names, seeing through aliases and quotes.

``Handler = Callable[[int], None]`` then ``def wf(cb: Handler)`` annotates ``cb`` with a
callable; so does ``Handler: TypeAlias = ...``, ``type Handler = ...`` (3.12) and an alias
imported from another module of the project. Quoted annotations are parsed and read where they
stand. Two questions are answered: the first class named anywhere in an annotation that the
caller cares about (serializability of signatures), and the one class an annotation declares
once ``Optional``, ``Union[X, None]`` and ``Annotated`` are unwrapped (what a parameter holds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import libcst as cst

from dbos_lint.analysis.parsed_module import ParsedModule
from dbos_lint.analysis.scopes import Bind, Binding
from dbos_lint.analysis.values import (
    UNKNOWN,
    Ext,
    Frame,
    ImportTarget,
    ProjClass,
    ProjModule,
    Symbol,
    Value,
)


class ValueSource(Protocol):
    """What reading annotations asks of the evaluator: the value of an expression and what an
    import names (a Protocol, so that the evaluator, which reads annotations, is not imported)."""

    def value(self, expr: cst.CSTNode, frame: Frame) -> Value: ...

    def import_target(self, module: ParsedModule, target: str) -> ImportTarget: ...


_MAX_ALIASES = 20
_WRAPPERS = frozenset({"typing.Optional", "typing.Annotated", "typing_extensions.Annotated"})
_UNIONS = frozenset({"typing.Union"})
_LITERALS = frozenset({"typing.Literal", "typing_extensions.Literal"})
_NONE = Ext("builtins.None")


def first_named(
    ev: ValueSource,
    expr: cst.BaseExpression,
    frame: Frame,
    accept: Callable[[Value], bool],
    depth: int = 0,
) -> Value | None:
    """The first class (an outside name or a project class) named anywhere in ``expr`` that
    ``accept`` accepts, left to right."""
    if depth > _MAX_ALIASES:
        return None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        resolved = _resolve(ev, expr, frame)
        if isinstance(resolved, tuple):
            return first_named(ev, resolved[0], resolved[1], accept, depth + 1)
        return resolved if accept(resolved) else None
    parts: list[tuple[cst.BaseExpression, Frame]] = []
    if isinstance(expr, cst.Subscript):
        base = outer_type(ev, expr.value, frame, depth + 1)
        parts.append((expr.value, frame))
        if not (isinstance(base, Ext) and base.name in _LITERALS):
            elements = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
            if isinstance(base, Ext) and "Annotated" in base.name:
                elements = elements[:1]
            parts += [(element, frame) for element in elements]
    elif isinstance(expr, cst.BinaryOperation):
        parts = [(expr.left, frame), (expr.right, frame)]
    elif isinstance(expr, (cst.List, cst.Tuple)):
        parts = [(item.value, frame) for item in expr.elements]
    elif isinstance(expr, cst.SimpleString):
        parsed = parse_quoted(expr, frame)
        if parsed is not None:
            parts = [(parsed, frame)]
    for part, where in parts:
        found = first_named(ev, part, where, accept, depth + 1)
        if found is not None:
            return found
    return None


def outer_type(ev: ValueSource, expr: cst.BaseExpression, frame: Frame, depth: int = 0) -> Value:
    """The class ``expr`` declares (``Optional[set[str]]``: ``builtins.set``), else unknown."""
    if depth > _MAX_ALIASES:
        return UNKNOWN
    if isinstance(expr, (cst.Name, cst.Attribute)):
        resolved = _resolve(ev, expr, frame)
        if isinstance(resolved, tuple):
            return outer_type(ev, resolved[0], resolved[1], depth + 1)
        return resolved
    if isinstance(expr, cst.Subscript):
        base = outer_type(ev, expr.value, frame, depth + 1)
        elements = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
        if isinstance(base, Ext) and base.name in _WRAPPERS and elements:
            return outer_type(ev, elements[0], frame, depth + 1)
        if isinstance(base, Ext) and base.name in _UNIONS:
            return _single(ev, elements, frame, depth)
        return base
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        return _single(ev, [expr.left, expr.right], frame, depth)
    if isinstance(expr, cst.SimpleString):
        parsed = parse_quoted(expr, frame)
        if parsed is not None:
            return outer_type(ev, parsed, frame, depth + 1)
    return UNKNOWN


def _single(ev: ValueSource, members: list[cst.BaseExpression], frame: Frame, depth: int) -> Value:
    """``X | None`` and ``Union[X, None]`` declare X; a union of several classes, nothing."""
    found = [outer_type(ev, m, frame, depth + 1) for m in members]
    real = [v for v in found if v != _NONE]
    return real[0] if len(real) == 1 else UNKNOWN


def _resolve(
    ev: ValueSource, expr: cst.Name | cst.Attribute, frame: Frame
) -> Value | tuple[cst.BaseExpression, Frame]:
    """A name in an annotation: the expression it is an alias of, or the class it names."""
    if isinstance(expr, cst.Name):
        bindings = frame.scope.lookup(expr.value)
        if bindings is not None and len(bindings) == 1:
            alias = _alias(ev, bindings[0], frame)
            if alias is not None:
                return alias
    elif isinstance(expr, cst.Attribute):
        base = ev.value(expr.value, frame)
        if isinstance(base, ProjModule):
            found = base.module.index.scope.bindings.get(expr.attr.value)
            if found is not None and len(found) == 1:
                alias = _alias(ev, found[0], Frame(base.module, base.module.index.scope))
                if alias is not None:
                    return alias
    value = ev.value(expr, frame)
    return value if isinstance(value, (Ext, ProjClass)) else UNKNOWN


def _alias(ev: ValueSource, b: Binding, frame: Frame) -> tuple[cst.BaseExpression, Frame] | None:
    if b.value is not None and (
        b.kind is Bind.ALIAS or (b.kind is Bind.ASSIGN and b.scope.kind in ("module", "class"))
    ):
        return b.value, frame.at(b.scope)
    if b.kind is Bind.IMPORT:
        target = ev.import_target(frame.module, b.target)
        if isinstance(target, Symbol):
            found = target.module.index.scope.bindings.get(target.name)
            if found is not None and len(found) == 1:
                return _alias(ev, found[0], Frame(target.module, target.module.index.scope))
    return None


def parse_quoted(expr: cst.SimpleString, frame: Frame) -> cst.BaseExpression | None:
    """A quoted annotation, parsed once per module (many walks read the same one)."""
    memo = frame.module.quoted
    if expr not in memo:
        memo[expr] = _parse_quoted(expr)
    return memo[expr]


def _parse_quoted(expr: cst.SimpleString) -> cst.BaseExpression | None:
    value = expr.evaluated_value
    if not isinstance(value, str):
        return None
    try:
        return cst.parse_expression(value.strip())
    except cst.ParserSyntaxError:
        return None
