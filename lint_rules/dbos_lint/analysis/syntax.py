"""Cheap structural access to a libcst tree: which children of a node are *read*.

libcst's own visitors rebuild every node they pass (``_visit_and_replace_children``), which costs
about as much as parsing; reading the dataclass fields directly costs a small fraction of it.
Whitespace and punctuation fields are dropped once per node class, and the fields that hold a
name being *defined* (a ``def`` name, a keyword argument, the ``attr`` of ``a.attr``) or a store
target are kept apart, so that every :class:`libcst.Name` the walkers meet is a read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

_SKIP_PREFIXES = ("whitespace", "lpar", "rpar", "lbrace", "rbrace", "lbracket", "rbracket")
_SKIP_FIELDS = frozenset(
    (
        "asynchronous colon comma comment default_indent default_newline dot empty_lines "
        "encoding equal first_colon footer has_trailing_newline header indent leading_lines "
        "lines_after_decorators newline operator posonly_ind relative second_colon semicolon "
        "separator star trailing_comma conversion"
    ).split()
)

#: Fields whose Name is defined there or is a keyword, never read.
_NOT_READ: frozenset[tuple[type[cst.CSTNode], str]] = frozenset(
    {
        (cst.Attribute, "attr"),
        (cst.Arg, "keyword"),
        (cst.FunctionDef, "name"),
        (cst.ClassDef, "name"),
        (cst.Param, "name"),
        (cst.ExceptHandler, "name"),
        (cst.MatchAs, "name"),
        (cst.MatchStar, "name"),
        (cst.MatchMapping, "rest"),
        (cst.MatchKeywordElement, "key"),
        (cst.TypeAlias, "name"),
        (cst.TypeVar, "name"),
        (cst.TypeVarTuple, "name"),
        (cst.ParamSpec, "name"),
    }
)

#: Fields holding store targets: only the bases of attributes and subscripts there are reads.
_TARGETS: frozenset[tuple[type[cst.CSTNode], str]] = frozenset(
    {
        (cst.AssignTarget, "target"),
        (cst.AugAssign, "target"),
        (cst.AnnAssign, "target"),
        (cst.For, "target"),
        (cst.CompFor, "target"),
        (cst.NamedExpr, "target"),
        (cst.Del, "target"),
        (cst.WithItem, "asname"),
    }
)

#: Statements that read nothing (names there are bound or declared).
_OPAQUE = (cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal)

_fields: dict[type[cst.CSTNode], tuple[tuple[str, bool], ...]] = {}


def _fields_of(cls: type[cst.CSTNode]) -> tuple[tuple[str, bool], ...]:
    """(field name, holds a target) for the fields of ``cls`` that may hold reads."""
    return tuple(
        (f.name, (cls, f.name) in _TARGETS)
        for f in dataclasses.fields(cls)
        if not f.name.startswith(_SKIP_PREFIXES)
        and f.name not in _SKIP_FIELDS
        and (cls, f.name) not in _NOT_READ
    )


_is_node_type: dict[type, bool] = {}


def _is_node(cls: type) -> bool:
    """``issubclass(cls, CSTNode)``, cached: libcst nodes are ABCs, whose checks are slow."""
    found = _is_node_type.get(cls)
    if found is None:
        found = _is_node_type[cls] = issubclass(cls, cst.CSTNode)
    return found


def read_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes of ``node`` in source order, target fields reduced to their reads."""
    cls = type(node)
    fields = _fields.get(cls)
    if fields is None:
        fields = () if issubclass(cls, _OPAQUE) else _fields_of(cls)
        _fields[cls] = fields
    out: list[cst.CSTNode] = []
    for name, is_target in fields:
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:
                if _is_node(type(item)):
                    out.append(item)
        elif _is_node(kind):
            if is_target:
                out.extend(target_reads(value))
            else:
                out.append(value)
    return out


def read_children_reversed(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``read_children`` in reverse order, ready to be pushed on a stack."""
    children = read_children(node)
    children.reverse()
    return children


def target_reads(target: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """What a store target reads: ``a.b = 1`` reads ``a``, ``a[k] = 1`` reads ``a`` and ``k``."""
    if isinstance(target, cst.AsName):
        target = target.name
    if isinstance(target, cst.Attribute):
        yield target.value
    elif isinstance(target, cst.Subscript):
        yield target.value
        yield from target.slice
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from target_reads(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from target_reads(target.value)


def target_names(target: cst.CSTNode) -> Iterator[cst.Name]:
    """Names a store target binds (``a, (b, *c) = ...`` binds a, b and c)."""
    if isinstance(target, cst.AsName):
        target = target.name
    if isinstance(target, cst.Name):
        yield target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from target_names(target.value)


def dotted(expr: cst.CSTNode) -> str:
    """``a.b.c`` as text; empty when the expression is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, cst.Name):
        return ""
    parts.append(expr.value)
    return ".".join(reversed(parts))


def all_params(node: cst.FunctionDef | cst.Lambda) -> list[cst.Param]:
    params = node.params
    found: list[cst.Param] = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.append(star)
    return found


def child_statements(stmt: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Statements directly nested in a compound statement (bodies, else/except/finally/case)."""
    for attr in ("body", "orelse", "finalbody"):
        part = getattr(stmt, attr, None)
        if isinstance(part, (cst.Else, cst.Finally)):
            part = part.body
        if isinstance(part, cst.If):  # elif chains
            yield part
        elif isinstance(part, cst.BaseSuite):
            yield from part.body
    yield from getattr(stmt, "handlers", ())
    for case in getattr(stmt, "cases", ()):
        yield from case.body.body


def import_target(alias: cst.ImportAlias, node: cst.Import | cst.ImportFrom) -> tuple[str, str]:
    """(bound name, dotted name it denotes) for one alias; relative names keep their dots."""
    name = dotted(alias.name)
    if isinstance(node, cst.Import):
        if alias.asname is not None:
            return _as_name(alias), name
        first = name.split(".", 1)[0]
        return first, first
    dots = "." * len(node.relative)
    module = dotted(node.module) if node.module is not None else ""
    base = f"{dots}{module}" if module else dots
    full = f"{base}.{name}" if not base.endswith(".") else f"{base}{name}"
    bound = _as_name(alias) if alias.asname is not None else name
    return bound, full


def _as_name(alias: cst.ImportAlias) -> str:
    assert alias.asname is not None
    target = alias.asname.name
    return target.value if isinstance(target, cst.Name) else dotted(target)


def string_value(expr: cst.CSTNode) -> str | None:
    """The text of a plain string literal (``"time"``), else None."""
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None
