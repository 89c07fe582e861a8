"""Python's scoping rules, just enough for the checker: who binds a name, and to what.

This replaces libcst's ScopeProvider, which analysed every node of every module and took about
70% of the checker's time. Scopes here are built on demand, one function at a time, and only
for the functions a workflow reaches; a scope records for each name every binding in it
(flow-insensitively, like Python's own compile-time rule that one assignment anywhere makes a
name local), and lookups walk out through enclosing functions to the module and the builtins,
skipping class bodies as Python does.

A binding keeps what the value was built from (the assigned expression, the annotation, the
imported dotted name); turning that into a value is the evaluator's job.
"""

from __future__ import annotations

import builtins
import enum
from dataclasses import dataclass, field
from typing import cast

import libcst as cst

from dbos_lint.analysis.syntax import (
    all_params,
    child_statements,
    dotted,
    import_target,
    read_children,
    read_children_reversed,
    target_names,
)
from dbos_lint.catalogue.names import DBOS_STAR_EXPORTS

BUILTINS = frozenset(dir(builtins))

COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
ScopeNode = cst.Module | cst.ClassDef | cst.FunctionDef | cst.Lambda | cst.BaseComp


class Bind(enum.Enum):
    ASSIGN = "assign"  # value: the assigned expression
    ANNOTATED = "annotated"  # value: the annotation (the declared type says more than the value)
    ALIAS = "alias"  # value: the aliased type expression (``type X = ...``, ``X: TypeAlias``)
    PARAM = "param"  # value: the annotation or None; node: the Param
    IMPORT = "import"  # target: the dotted name imported
    DEF = "def"  # node: the FunctionDef
    CLASS = "class"  # node: the ClassDef
    WITH = "with"  # value: the context manager expression
    AUGMENT = "augment"  # ``x += ...``: the name stays local, its kind of value is unchanged
    OTHER = "other"  # a loop target, an unpacking, ``except ... as``: value unknown


@dataclass(eq=False, slots=True)
class Binding:
    kind: Bind
    scope: Scope
    node: cst.CSTNode
    value: cst.BaseExpression | None = None
    target: str = ""


@dataclass(eq=False)
class Scope:
    kind: str  # "module", "class", "function", "lambda", "comprehension"
    node: ScopeNode
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    #: Names on which ``.sort()`` is called somewhere in the scope (found on first use).
    _sorted: set[str] | None = None
    #: ``from x import *`` seen: unbound names may come from there.
    star_import: bool = False

    def is_sorted_in_place(self, name: str) -> bool:
        """Whether ``name.sort()`` is called anywhere in this scope's code (then its order is
        fixed). Looked for only when a set-order finding is about to be made: rare."""
        if self._sorted is None:
            self._sorted = set()
            stack: list[cst.CSTNode] = [self.node]
            while stack:
                node = stack.pop()
                if type(node) is cst.Call:
                    func = node.func
                    if type(func) is cst.Attribute and func.attr.value == "sort":
                        if type(func.value) is cst.Name:
                            self._sorted.add(func.value.value)
                stack.extend(read_children(node))
        return name in self._sorted

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    @property
    def module_scope(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup(self, name: str) -> list[Binding] | None:
        """The bindings a read of ``name`` here can see, or None for a builtin/unknown name."""
        scope: Scope | None = self
        start = True
        while scope is not None:
            if name in scope.declared_global:
                return scope.module_scope.bindings.get(name)
            if (start or scope.kind != "class") and name not in scope.declared_nonlocal:
                found = scope.bindings.get(name)
                if found:
                    return found
            start = False
            scope = scope.parent
        return None

    def is_builtin(self, name: str) -> bool:
        return name in BUILTINS and not self.module_scope.star_import


def bind_import(scope: Scope, node: cst.Import | cst.ImportFrom) -> None:
    if isinstance(node.names, cst.ImportStar):
        scope.star_import = True
        module = dotted(node.module) if node.module is not None and not node.relative else ""
        # The names of a star import are unknown, except dbos's own: ``from dbos import *``
        # then ``@DBOS.workflow()`` declares a workflow like any other import of DBOS would.
        for name in DBOS_STAR_EXPORTS if module == "dbos" else ():
            scope.bind(name, Binding(Bind.IMPORT, scope, node, target=f"dbos.{name}"))
        return
    for alias in node.names:
        bound, target = import_target(alias, node)
        scope.bind(bound, Binding(Bind.IMPORT, scope, node, target=target))


def bind_assign(scope: Scope, node: cst.Assign) -> None:
    for target in node.targets:
        _bind_target(scope, target.target, node, node.value)


def bind_small(scope: Scope, small: cst.CSTNode) -> None:
    """Bindings made by one simple statement (shared by module, class and function scopes)."""
    if isinstance(small, cst.Assign):
        bind_assign(scope, small)
    elif isinstance(small, cst.AnnAssign):
        if isinstance(small.target, cst.Name):
            kind = Bind.ANNOTATED
            value: cst.BaseExpression | None = small.annotation.annotation
            if _is_type_alias_annotation(small.annotation.annotation) and small.value:
                kind, value = Bind.ALIAS, small.value
            scope.bind(small.target.value, Binding(kind, scope, small, value))
    elif isinstance(small, cst.AugAssign):
        if isinstance(small.target, cst.Name):
            scope.bind(small.target.value, Binding(Bind.AUGMENT, scope, small, small.value))
    elif isinstance(small, (cst.Import, cst.ImportFrom)):
        bind_import(scope, small)
    elif isinstance(small, cst.Global):
        scope.declared_global.update(n.name.value for n in small.names)
    elif isinstance(small, cst.Nonlocal):
        scope.declared_nonlocal.update(n.name.value for n in small.names)
    elif isinstance(small, cst.TypeAlias):
        scope.bind(small.name.value, Binding(Bind.ALIAS, scope, small, small.value))
    elif isinstance(small, cst.Del):
        for name in target_names(small.target):
            scope.bind(name.value, Binding(Bind.OTHER, scope, small))


def bind_compound(scope: Scope, stmt: cst.CSTNode) -> None:
    """Bindings made by the header of a compound statement (not its body)."""
    if isinstance(stmt, cst.FunctionDef):
        scope.bind(stmt.name.value, Binding(Bind.DEF, scope, stmt))
    elif isinstance(stmt, cst.ClassDef):
        scope.bind(stmt.name.value, Binding(Bind.CLASS, scope, stmt))
    elif isinstance(stmt, cst.For):
        _bind_target(scope, stmt.target, stmt, None)
    elif isinstance(stmt, cst.With):
        for item in stmt.items:
            if item.asname is not None:
                target = item.asname.name
                if isinstance(target, cst.Name):
                    scope.bind(target.value, Binding(Bind.WITH, scope, stmt, item.item))
                else:
                    _bind_target(scope, target, stmt, None)
    elif isinstance(stmt, (cst.ExceptHandler, cst.ExceptStarHandler)) and stmt.name is not None:
        for name in target_names(stmt.name):
            scope.bind(name.value, Binding(Bind.OTHER, scope, stmt))


def _bind_target(
    scope: Scope, target: cst.CSTNode, node: cst.CSTNode, value: cst.BaseExpression | None
) -> None:
    if isinstance(target, cst.Name):
        kind = Bind.ASSIGN if value is not None else Bind.OTHER
        scope.bind(target.value, Binding(kind, scope, node, value))
        return
    for name in target_names(target):
        scope.bind(name.value, Binding(Bind.OTHER, scope, node))


def _is_type_alias_annotation(annotation: cst.BaseExpression) -> bool:
    leaf = annotation.attr.value if isinstance(annotation, cst.Attribute) else None
    if isinstance(annotation, cst.Name):
        leaf = annotation.value
    return leaf == "TypeAlias"


def bind_statements(scope: Scope, statements: list[cst.CSTNode]) -> None:
    """Bindings of a module or class body, statement by statement (expressions are not
    entered: a walrus at module level is too rare to pay a full walk for)."""
    stack = list(reversed(statements))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                bind_small(scope, small)
            continue
        bind_compound(scope, stmt)
        if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            stack.extend(reversed(list(child_statements(stmt))))


def new_function_scope(
    node: cst.FunctionDef | cst.Lambda, parent: Scope, *, walrus: bool = True
) -> Scope:
    """A function's (or lambda's) scope: its parameters and every binding in its body.

    Only statements bind names, except the walrus (``:=``, also inside a comprehension, where
    it binds in the enclosing function); without ``walrus`` (the module has none) the body's
    statements are read and its expressions skipped, which is most of its nodes. Nested
    functions, classes, lambdas and comprehensions get scopes of their own."""
    scope = Scope("function" if isinstance(node, cst.FunctionDef) else "lambda", node, parent)
    for param in all_params(node):
        annotation = param.annotation.annotation if param.annotation else None
        scope.bind(param.name.value, Binding(Bind.PARAM, scope, param, annotation))
    if walrus or isinstance(node, cst.Lambda):
        _collect(scope, [node.body])
    else:
        _collect_statements(scope, list(node.body.body))
    return scope


def _collect_statements(scope: Scope, statements: list[cst.CSTNode]) -> None:
    stack = list(reversed(statements))
    while stack:
        stmt = stack.pop()
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            for small in cast(cst.SimpleStatementLine, stmt).body:
                bind_small(scope, small)
            continue
        bind_compound(scope, stmt)
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            continue
        if kind is cst.Match:
            for case in cast(cst.Match, stmt).cases:
                _bind_captures(scope, case.pattern)
        stack.extend(reversed(list(child_statements(stmt))))


def _bind_captures(scope: Scope, pattern: cst.CSTNode) -> None:
    """Names a ``case`` pattern captures (``case {"at": when, **rest}``)."""
    stack = [pattern]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            scope.bind(node.name.value, Binding(Bind.OTHER, scope, node))
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            scope.bind(node.rest.value, Binding(Bind.OTHER, scope, node))
        stack.extend(read_children(node))


def new_comprehension_scope(node: cst.BaseComp, parent: Scope) -> Scope:
    scope = Scope("comprehension", node, parent)
    clause: cst.CompFor | None = node.for_in
    while clause is not None:
        for name in target_names(clause.target):
            scope.bind(name.value, Binding(Bind.OTHER, scope, clause))
        clause = clause.inner_for_in
    return scope


_STATEMENT, _DEF, _LAMBDA, _COMP, _WALRUS, _HEADER, _CAPTURE, _REST = range(8)
_COLLECT: dict[type[cst.CSTNode], int] = {
    cst.SimpleStatementLine: _STATEMENT,
    cst.FunctionDef: _DEF,
    cst.ClassDef: _DEF,
    cst.Lambda: _LAMBDA,
    **{comp: _COMP for comp in COMPREHENSIONS},
    cst.NamedExpr: _WALRUS,
    cst.For: _HEADER,
    cst.With: _HEADER,
    cst.ExceptHandler: _HEADER,
    cst.ExceptStarHandler: _HEADER,
    cst.MatchAs: _CAPTURE,
    cst.MatchStar: _CAPTURE,
    cst.MatchMapping: _REST,
}


def _collect(scope: Scope, start: list[cst.CSTNode]) -> None:
    """One pass over a function body recording its bindings (explicit stack: deep expressions
    must not hit the recursion limit; dispatch on the exact type: libcst's classes are ABCs,
    and isinstance checks against them are slow)."""
    stack = list(reversed(start))
    kinds = _COLLECT
    while stack:
        node = stack.pop()
        kind = kinds.get(type(node))
        if kind is None:
            pass
        elif kind == _STATEMENT:
            node = cast("cst.SimpleStatementLine", node)
            for small in node.body:
                bind_small(scope, small)
        elif kind == _DEF:
            node = cast("cst.FunctionDef | cst.ClassDef", node)
            bind_compound(scope, node)
            stack.extend(_header_reads(node))
            continue
        elif kind == _LAMBDA:
            node = cast("cst.Lambda", node)
            stack.extend(p.default for p in all_params(node) if p.default is not None)
            continue
        elif kind == _COMP:
            node = cast("cst.BaseComp", node)
            stack.append(node.for_in.iter)
            _walrus_only(scope, node)
            continue
        elif kind == _WALRUS:
            node = cast("cst.NamedExpr", node)
            if isinstance(node.target, cst.Name):
                scope.bind(node.target.value, Binding(Bind.ASSIGN, scope, node, node.value))
        elif kind == _HEADER:
            bind_compound(scope, node)
        elif kind == _CAPTURE:
            node = cast("cst.MatchAs | cst.MatchStar", node)
            if node.name is not None:
                scope.bind(node.name.value, Binding(Bind.OTHER, scope, node))
        elif kind == _REST:
            node = cast("cst.MatchMapping", node)
            if node.rest is not None:
                scope.bind(node.rest.value, Binding(Bind.OTHER, scope, node))
        stack.extend(read_children_reversed(node))


def _walrus_only(scope: Scope, comp: cst.BaseComp) -> None:
    """``[y := f(x) for x in xs]`` binds ``y`` in the enclosing function (PEP 572)."""
    stack: list[cst.CSTNode] = [comp]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.NamedExpr) and isinstance(node.target, cst.Name):
            scope.bind(node.target.value, Binding(Bind.ASSIGN, scope, node, node.value))
        if isinstance(node, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
            continue
        stack.extend(read_children(node))


def _header_reads(node: cst.FunctionDef | cst.ClassDef) -> list[cst.CSTNode]:
    """What a nested ``def``/``class`` statement evaluates in the enclosing scope."""
    reads: list[cst.CSTNode] = [d.decorator for d in node.decorators]
    if isinstance(node, cst.FunctionDef):
        for param in all_params(node):
            if param.default is not None:
                reads.append(param.default)
    else:
        reads.extend(arg.value for arg in (*node.bases, *node.keywords))
    return reads
