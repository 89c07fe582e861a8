"""Find and classify every function of a module by its dbos decorator.

Workflows, steps and transactions are recognised by the *resolved* decorator name, so
``from dbos import DBOS as D`` + ``@D.workflow()`` and ``import dbos`` + ``@dbos.DBOS.workflow``
both count, while a local class that happens to be called ``DBOS`` does not.

The walk only descends through statements (``def`` is a statement, so no function can hide in an
expression). Skipping expressions makes it several times cheaper than a libcst visitor, which
matters because this runs on every file of every commit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from dbos_lint import names as n
from dbos_lint.resolve import Resolver


class Kind(enum.Enum):
    WORKFLOW = "workflow"
    STEP = "step"
    TRANSACTION = "transaction"
    PLAIN = "plain"


@dataclass
class FunctionInfo:
    node: cst.FunctionDef
    kind: Kind
    qualname: str
    #: Methods of the enclosing class by name (empty for functions outside classes).
    siblings: dict[str, FunctionInfo] = field(default_factory=dict)
    #: Name of the first parameter of a method (``self``), used to resolve ``self.helper()``.
    self_name: str | None = None


@dataclass
class ModuleIndex:
    #: Every function in source order (dicts keep insertion order).
    functions: dict[cst.FunctionDef, FunctionInfo] = field(default_factory=dict)
    module_functions: dict[str, FunctionInfo] = field(default_factory=dict)
    #: Module-level names bound to ``dbos.Queue(...)``.
    queues: set[str] = field(default_factory=set)
    #: Name target / Param node -> value or annotation (feeds Resolver.bindings). Module-level
    #: bindings are filled here; function-level ones by the body walks as they pass them.
    bound_values: dict[cst.CSTNode, cst.BaseExpression | None] = field(default_factory=dict)


def _decorator_kind(resolver: Resolver, decorator: cst.Decorator) -> Kind | None:
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    found = set(resolver.external_names(expr))
    if found & n.WORKFLOW_DECORATORS:
        return Kind.WORKFLOW
    if found & n.STEP_DECORATORS:
        return Kind.STEP
    if found & n.TRANSACTION_DECORATORS:
        return Kind.TRANSACTION
    return None


def classify(resolver: Resolver, node: cst.FunctionDef) -> Kind:
    for decorator in node.decorators:
        kind = _decorator_kind(resolver, decorator)
        if kind is not None:
            return kind
    return Kind.PLAIN


def record_binding(bound: dict[cst.CSTNode, cst.BaseExpression | None], node: cst.CSTNode) -> None:
    """Remember what an ``x = ...`` / ``x: T = ...`` / parameter binds ``x`` to."""
    if isinstance(node, cst.Assign):
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                bound[target.target] = node.value
    elif isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name):
        # The declared type says more than the value (``x: set[str] = load()``).
        bound[node.target] = node.annotation.annotation
    elif isinstance(node, cst.Param):
        bound[node] = node.annotation.annotation if node.annotation else None


def _child_statements(stmt: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Statements directly nested in a compound statement (bodies, else/except/finally/case)."""
    for attr in ("body", "orelse", "finalbody"):
        part = getattr(stmt, attr, None)
        if isinstance(part, (cst.Else, cst.Finally)):
            part = part.body
        if isinstance(part, cst.If):  # elif chains
            yield part
        elif isinstance(part, cst.BaseSuite):
            yield from part.body
    for handler in getattr(stmt, "handlers", ()):
        yield from handler.body.body
    for case in getattr(stmt, "cases", ()):
        yield from case.body.body


class _Indexer:
    def __init__(self, resolver: Resolver, index: ModuleIndex) -> None:
        self.resolver = resolver
        self.index = index

    def walk(
        self,
        statements: Sequence[cst.CSTNode],
        stack: tuple[cst.FunctionDef | cst.ClassDef, ...],
        methods: dict[str, FunctionInfo] | None,
    ) -> None:
        for stmt in statements:
            if isinstance(stmt, cst.FunctionDef):
                self._function(stmt, stack, methods)
            elif isinstance(stmt, cst.ClassDef):
                self.walk(stmt.body.body, (*stack, stmt), {})
            elif isinstance(stmt, cst.SimpleStatementLine):
                if not stack:
                    for small in stmt.body:
                        self._module_binding(small)
            else:
                self.walk(list(_child_statements(stmt)), stack, methods)

    def _function(
        self,
        node: cst.FunctionDef,
        stack: tuple[cst.FunctionDef | cst.ClassDef, ...],
        methods: dict[str, FunctionInfo] | None,
    ) -> None:
        prefix = ".".join(s.name.value for s in stack)
        qualname = f"{prefix}.{node.name.value}" if prefix else node.name.value
        info = FunctionInfo(node=node, kind=classify(self.resolver, node), qualname=qualname)
        if stack and isinstance(stack[-1], cst.ClassDef) and methods is not None:
            methods[node.name.value] = info
            info.siblings = methods
            params = node.params.posonly_params or node.params.params
            if params:
                info.self_name = params[0].name.value
        elif not stack:
            self.index.module_functions[node.name.value] = info
        self.index.functions[node] = info
        self.walk(node.body.body, (*stack, node), None)

    def _module_binding(self, small: cst.BaseSmallStatement) -> None:
        record_binding(self.index.bound_values, small)
        if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
            if set(self.resolver.external_names(small.value.func)) & n.QUEUE_CLASSES:
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        self.index.queues.add(target.target.value)


def index_module(module: cst.Module, resolver: Resolver, index: ModuleIndex) -> None:
    _Indexer(resolver, index).walk(module.body, (), None)
