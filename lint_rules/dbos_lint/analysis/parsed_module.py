"""One parsed module as every check of a run shares it, and its index: functions (classified
by dbos decorator), classes and top-level names.

A :class:`ParsedModule` holds no findings and nothing that depends on which workflow is being
checked (values do, through the project files they resolve, and live in the evaluator), so a
helper module is parsed and indexed once per run however many workflows reach it (see
``Project.module``). Its index is built on first use: a module parsed only to be skipped never
pays for it.

Workflows, steps and transactions are recognised by the *resolved* decorator name, so
``from dbos import DBOS as D`` + ``@D.workflow()`` and ``import dbos`` + ``@dbos.DBOS.workflow``
both count, while a local class that happens to be called ``DBOS`` does not.

The index walk only descends through statements (``def`` and ``class`` are statements, so
nothing can hide in an expression). Skipping expressions keeps it a small fraction of the
parse, which matters because this runs on every workflow module and every helper module a
workflow reaches. Function scopes are built later, only for the functions a walk enters.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from dbos_lint.analysis.positions import Span, def_lines, function_spans, spans
from dbos_lint.analysis.scopes import (
    Bind,
    Scope,
    bind_statements,
    new_comprehension_scope,
    new_function_scope,
)
from dbos_lint.analysis.suppressions import parse_suppressions
from dbos_lint.analysis.syntax import child_statements
from dbos_lint.catalogue import names as n
from dbos_lint.catalogue.settings import Settings


class Kind(enum.Enum):
    WORKFLOW = "workflow"
    STEP = "step"
    TRANSACTION = "transaction"
    PLAIN = "plain"


_STATIC = frozenset({"builtins.staticmethod"})
_CLASSMETHOD = frozenset({"builtins.classmethod"})
_PROPERTY = frozenset({"builtins.property", "functools.cached_property"})


class ParsedModule:
    """One source file: its libcst tree, where it lives, and what is computed from it once
    (index, positions, suppressions, parsed quoted annotations)."""

    def __init__(
        self,
        module: cst.Module,
        settings: Settings,
        path: Path | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.module = module
        self.settings = settings
        self.path = path
        self.raw = raw
        #: How the module is imported, when known (see ``Project.dotted_name``).
        self.dotted = ""
        self._index: ModuleIndex | None = None
        self._spans: dict[cst.CSTNode, Span] = {}
        self._lines: dict[cst.FunctionDef, tuple[int, str]] | None = None
        self._lines_read = False
        #: Quoted annotations, parsed (see ``annotations.parse_quoted``).
        self.quoted: dict[cst.SimpleString, cst.BaseExpression | None] = {}
        self._suppressions: dict[int, frozenset[str] | None] | None = None

    @property
    def index(self) -> ModuleIndex:
        """Built on first use: a module parsed only to be skipped never pays for it."""
        if self._index is None:
            walrus = self.raw is None or b":=" in self.raw
            self._index = ModuleIndex(self.module, self, walrus=walrus)
        return self._index

    @property
    def short_name(self) -> str:
        """How a chain names this module: ``helpers`` for app/helpers.py, ``app`` for
        app/__init__.py."""
        if self.path is None:
            return "<module>"
        return self.path.parent.name if self.path.name == "__init__.py" else self.path.stem

    @property
    def is_package(self) -> bool:
        return self.path is not None and self.path.name == "__init__.py"

    def positions(
        self, wanted: Mapping[cst.FunctionDef | None, Collection[cst.CSTNode]]
    ) -> Mapping[cst.CSTNode, Span]:
        """Positions of reported nodes, grouped by the function each lies in (None: unknown);
        computed only when there is something to report."""
        missing = {
            func: [node for node in nodes if node not in self._spans]
            for func, nodes in wanted.items()
        }
        missing = {func: nodes for func, nodes in missing.items() if nodes}
        if not missing:
            return self._spans
        lines = self._def_lines() if None not in missing else None
        if lines is None or any(func not in lines for func in missing):
            self._spans.update(spans(self.module, [n for ns in missing.values() for n in ns]))
            return self._spans
        for func, nodes in missing.items():
            assert func is not None
            line, indent = lines[func]
            self._spans.update(function_spans(self.module, func, line, indent, nodes))
        return self._spans

    def _def_lines(self) -> dict[cst.FunctionDef, tuple[int, str]] | None:
        if not self._lines_read:
            self._lines_read = True
            if self.raw is not None:
                self._lines = def_lines(self.raw, list(self.index.functions))
        return self._lines

    def suppressions(self) -> dict[int, frozenset[str] | None]:
        if self._suppressions is None:
            self._suppressions = parse_suppressions(self.raw) if self.raw is not None else {}
        return self._suppressions


def load_module(raw: bytes, settings: Settings, path: Path) -> ParsedModule | None:
    """A helper module as the checker sees it; one that does not parse is not followed (it is
    reported as DBOS000 when checked itself)."""
    try:
        module = cst.parse_module(raw)
    except cst.ParserSyntaxError:
        return None
    return ParsedModule(module, settings, path, raw)


@dataclass(eq=False)
class FunctionInfo:
    node: cst.FunctionDef
    kind: Kind
    qualname: str
    index: ModuleIndex
    #: The module the function is defined in.
    module: ParsedModule
    #: The class this function is a method of, if any.
    owner: ClassInfo | None = None
    #: The function this one is nested in, if any.
    parent: FunctionInfo | None = None
    decorators: frozenset[str] = frozenset()

    @property
    def is_static(self) -> bool:
        return bool(self.decorators & _STATIC)

    @property
    def is_classmethod(self) -> bool:
        return bool(self.decorators & _CLASSMETHOD)

    @property
    def is_property(self) -> bool:
        return bool(self.decorators & _PROPERTY)

    @property
    def self_name(self) -> str | None:
        """Name of the parameter bound to the instance (or class), for methods."""
        if self.owner is None or self.is_static:
            return None
        params = self.node.params.posonly_params or self.node.params.params
        return params[0].name.value if params else None


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    qualname: str
    index: ModuleIndex
    #: The module the class is defined in.
    module: ParsedModule
    scope: Scope
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    parent: FunctionInfo | None = None
    #: ``self.<name> = value`` in any method: name -> [(method, value)] (built on first use).
    _instance_attrs: dict[str, list[tuple[FunctionInfo, cst.BaseExpression | None]]] | None = None

    def instance_attrs(self) -> dict[str, list[tuple[FunctionInfo, cst.BaseExpression | None]]]:
        if self._instance_attrs is None:
            self._instance_attrs = {}
            for method in self.methods.values():
                if method.self_name is not None and not method.is_classmethod:
                    _scan_self_assignments(method, self._instance_attrs)
        return self._instance_attrs


class ModuleIndex:
    """Everything the checker knows about one module without walking expressions."""

    def __init__(self, module: cst.Module, parsed: ParsedModule, *, walrus: bool = True) -> None:
        """``parsed`` is recorded on the functions and classes found (not kept here)."""
        #: Whether the source may contain ``:=`` (function scopes then read expressions too).
        self.walrus = walrus
        self.scope = Scope("module", module, None)
        #: Every function in source order.
        self.functions: dict[cst.FunctionDef, FunctionInfo] = {}
        self.classes: dict[cst.ClassDef, ClassInfo] = {}
        #: Names some function declares ``global`` (their module-level value may change).
        self.global_writes: set[str] = set()
        self._scopes: dict[cst.CSTNode, Scope] = {}
        bind_statements(self.scope, list(module.body))
        _Indexer(self, parsed).walk(list(module.body), (), None, None)
        for info in self.functions.values():
            info.kind, info.decorators = _classify(self, info)

    def function_scope(self, info: FunctionInfo) -> Scope:
        scope = self._scopes.get(info.node)
        if scope is None:
            parent = self.enclosing_scope(info.owner, info.parent)
            scope = new_function_scope(info.node, parent, walrus=self.walrus)
            self._scopes[info.node] = scope
        return scope

    def enclosing_scope(self, owner: ClassInfo | None, parent: FunctionInfo | None) -> Scope:
        if owner is not None:
            return owner.scope
        if parent is not None:
            return self.function_scope(parent)
        return self.scope

    def nested_scope(self, node: cst.CSTNode, parent: Scope) -> Scope:
        """The scope of a lambda, comprehension, nested def or class met inside a walk."""
        scope = self._scopes.get(node)
        if scope is None:
            if isinstance(node, cst.FunctionDef):
                info = self.functions.get(node)
                if info is not None:
                    return self.function_scope(info)
                scope = new_function_scope(node, parent)
            elif isinstance(node, cst.Lambda):
                scope = new_function_scope(node, parent)
            elif isinstance(node, cst.ClassDef) and node in self.classes:
                scope = self.classes[node].scope
            else:
                assert isinstance(node, cst.BaseComp)
                scope = new_comprehension_scope(node, parent)
            self._scopes[node] = scope
        return scope


class _Indexer:
    def __init__(self, index: ModuleIndex, parsed: ParsedModule) -> None:
        self.index = index
        self.parsed = parsed

    def walk(
        self,
        statements: Sequence[cst.CSTNode],
        prefix: tuple[str, ...],
        owner: ClassInfo | None,
        parent: FunctionInfo | None,
    ) -> None:
        for stmt in statements:
            if isinstance(stmt, cst.FunctionDef):
                self._function(stmt, prefix, owner, parent)
            elif isinstance(stmt, cst.ClassDef):
                self._class(stmt, prefix, parent, owner)
            elif isinstance(stmt, cst.SimpleStatementLine):
                if parent is not None:
                    for small in stmt.body:
                        if isinstance(small, cst.Global):
                            self.index.global_writes.update(x.name.value for x in small.names)
            else:
                self.walk(list(child_statements(stmt)), prefix, owner, parent)

    def _function(
        self,
        node: cst.FunctionDef,
        prefix: tuple[str, ...],
        owner: ClassInfo | None,
        parent: FunctionInfo | None,
    ) -> None:
        qualname = ".".join((*prefix, node.name.value))
        info = FunctionInfo(node, Kind.PLAIN, qualname, self.index, self.parsed, owner, parent)
        if owner is not None:
            owner.methods.setdefault(node.name.value, info)
        self.index.functions[node] = info
        self.walk(node.body.body, (*prefix, node.name.value), None, info)

    def _class(
        self,
        node: cst.ClassDef,
        prefix: tuple[str, ...],
        parent: FunctionInfo | None,
        enclosing_class: ClassInfo | None,
    ) -> None:
        if enclosing_class is not None:
            outer = enclosing_class.scope
        elif parent is not None:  # rare: a class defined inside a function
            outer = self.index.function_scope(parent)
        else:
            outer = self.index.scope
        scope = Scope("class", node, outer)
        bind_statements(scope, list(node.body.body))
        qualname = ".".join((*prefix, node.name.value))
        info = ClassInfo(node, qualname, self.index, self.parsed, scope)
        info.parent = parent
        self.index.classes[node] = info
        self.walk(node.body.body, (*prefix, node.name.value), info, parent)


def qualify(expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> str | None:
    """The dotted name an expression denotes through imports and module-level aliases alone
    (no project files read): enough for decorators, which name ``dbos`` or the builtins, also
    as ``step = DBOS.step(retries_allowed=True)`` then ``@step``."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, cst.Name) or depth > 10:
        return None
    bindings = scope.lookup(expr.value)
    if bindings is None:
        if not scope.is_builtin(expr.value):
            return None
        base = f"builtins.{expr.value}"
    elif len(bindings) != 1:
        return None
    elif bindings[0].kind is Bind.IMPORT:
        base = bindings[0].target
    elif bindings[0].kind is Bind.ASSIGN and bindings[0].scope.kind == "module":
        value = bindings[0].value
        if isinstance(value, cst.Call):
            value = value.func
        found = qualify(value, bindings[0].scope, depth + 1) if value is not None else None
        if found is None:
            return None
        base = found
    else:
        return None
    return ".".join((base, *reversed(parts)))


def _classify(index: ModuleIndex, info: FunctionInfo) -> tuple[Kind, frozenset[str]]:
    if not info.node.decorators:
        return Kind.PLAIN, frozenset()
    scope = index.enclosing_scope(info.owner, info.parent)
    found: set[str] = set()
    for decorator in info.node.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        name = qualify(expr, scope)
        if name is not None:
            found.add(name)
    kind = Kind.PLAIN
    if found & n.WORKFLOW_DECORATORS:
        kind = Kind.WORKFLOW
    elif found & n.STEP_DECORATORS:
        kind = Kind.STEP
    elif found & n.TRANSACTION_DECORATORS:
        kind = Kind.TRANSACTION
    return kind, frozenset(found)


def _scan_self_assignments(
    method: FunctionInfo,
    out: dict[str, list[tuple[FunctionInfo, cst.BaseExpression | None]]],
) -> None:
    """``self.x = v`` / ``self.x: T = v`` statements anywhere in the method's statements."""
    self_name = method.self_name
    stack: list[cst.CSTNode] = list(method.node.body.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                for target, value in _attribute_targets(small):
                    if isinstance(target.value, cst.Name) and target.value.value == self_name:
                        out.setdefault(target.attr.value, []).append((method, value))
        elif not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            stack.extend(child_statements(stmt))


def _attribute_targets(
    small: cst.CSTNode,
) -> list[tuple[cst.Attribute, cst.BaseExpression | None]]:
    if isinstance(small, cst.Assign):
        single = len(small.targets) == 1
        return [
            (t.target, small.value if single else None)
            for t in small.targets
            if isinstance(t.target, cst.Attribute)
        ]
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Attribute):
        return [(small.target, small.value)]
    if isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Attribute):
        return [(small.target, None)]
    return []
