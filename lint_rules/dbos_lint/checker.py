"""The libcst checker: walks workflow bodies (and what they reach) against the catalogue.

Three kinds of walk share one visitor:

* a workflow body, including its lambdas, comprehensions and nested plain functions, plus the
  module's plain functions (and ``self.`` methods) it calls, transitively, with the call chain
  kept for the message;
* a step or transaction body, where only API misuse is checked (steps are the sanctioned place
  for nondeterminism);
* signatures of workflows, steps and transactions (serializability of inputs/outputs).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider, ScopeProvider

from dbos_lint import names as n
from dbos_lint.catalogue import RULES
from dbos_lint.collect import FunctionInfo, Kind, ModuleIndex, index_module, record_binding
from dbos_lint.model import Finding, Settings
from dbos_lint.resolve import Resolver, is_pure_chain
from dbos_lint.suppress import is_suppressed, parse_suppressions

_DECORATOR_HINT = re.compile(rb"\.\s*(?:workflow|step|transaction)\b")
_ACCESS_LEAVES = frozenset(name.rsplit(".", 1)[-1] for name in n.ACCESSES) | {"sql_session"}


@dataclass(frozen=True)
class _Walk:
    """Where a body walk stands: which root it serves and the helper chain that got here."""

    kind: Kind
    root: FunctionInfo
    current: FunctionInfo
    chain: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Pending:
    node: cst.CSTNode
    code: str
    message: str
    workflow: str | None
    chain: tuple[str, ...]


class _ModuleChecker:
    def __init__(self, module: cst.Module, settings: Settings) -> None:
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.settings = settings
        self.index = ModuleIndex()
        scopes = self.wrapper.resolve(ScopeProvider)
        self.resolver = Resolver(scopes, self.index.bound_values)
        index_module(self.wrapper.module, self.resolver, self.index)
        self.pending: dict[tuple[int, str], _Pending] = {}

    # -- reporting -------------------------------------------------------------------------
    def report(self, node: cst.CSTNode, code: str, name: str, walk: _Walk | None) -> None:
        key = (id(node), code)
        if key in self.pending:
            return
        message = RULES[code].format(name.removeprefix("builtins."))
        workflow = None
        chain: tuple[str, ...] = ()
        if walk is not None and walk.kind is Kind.WORKFLOW:
            workflow = walk.root.qualname
            if walk.chain:
                chain = walk.chain
                via = " -> ".join(f"`{c}`" for c in walk.chain)
                message += f" (reached from workflow `{workflow}` via {via})"
        self.pending[key] = _Pending(node, code, message, workflow, chain)

    def findings(self) -> list[Finding]:
        """Positions are computed only when there is something to report: the position pass
        regenerates the whole module's code and would otherwise dominate clean files."""
        if not self.pending:
            return []
        positions = self.wrapper.resolve(PositionProvider)
        found: list[Finding] = []
        for p in self.pending.values():
            pos: CodeRange = positions[p.node]
            found.append(
                Finding(
                    line=pos.start.line,
                    column=pos.start.column + 1,
                    code=p.code,
                    message=p.message,
                    end_line=pos.end.line,
                    end_column=pos.end.column + 1,
                    workflow=p.workflow,
                    chain=p.chain,
                )
            )
        return sorted(found)

    # -- name classification -----------------------------------------------------------------
    def call_code(self, name: str, pure: bool, nargs: int) -> str | None:
        return n.classify_call(
            name,
            nargs=nargs,
            allow_module_prefix=pure,
            extra_forbidden=self.settings.extra_forbidden,
            extra_allowed=self.settings.extra_allowed,
        )

    # -- drivers -----------------------------------------------------------------------------
    def run(self) -> list[Finding]:
        for info in self.index.functions.values():
            if info.kind is Kind.PLAIN:
                continue
            self.check_signature(info)
            self.walk_root(info)
        return self.findings()

    def walk_root(self, root: FunctionInfo) -> None:
        pending = [_Walk(kind=root.kind, root=root, current=root)]
        seen = {root.node}
        while pending:
            walk = pending.pop(0)
            visitor = _BodyVisitor(self, walk)
            for param in _all_params(walk.current.node):
                record_binding(self.index.bound_values, param)
            walk.current.node.body.visit(visitor)
            for helper in visitor.helpers:
                if helper.node not in seen:
                    seen.add(helper.node)
                    chain = (*walk.chain, helper.qualname)
                    pending.append(_Walk(walk.kind, root, helper, chain))

    def check_signature(self, info: FunctionInfo) -> None:
        for param in _all_params(info.node):
            if param.annotation is not None:
                self._check_annotation(param.annotation.annotation, n.PARAM_TYPE)
        if info.node.returns is not None:
            self._check_annotation(info.node.returns.annotation, n.RETURN_TYPE)

    def _check_annotation(self, expr: cst.BaseExpression, code: str) -> None:
        bad = self._unserializable(expr, expr)
        if bad is not None:
            self.report(expr, code, bad, None)

    def _unserializable(self, expr: cst.BaseExpression, anchor: cst.CSTNode) -> str | None:
        """First non-serializable type named anywhere in an annotation (``Optional[Callable]``,
        ``list[Iterator[int]]``, ``X | None``, quoted annotations)."""
        if isinstance(expr, (cst.Name, cst.Attribute)):
            if self.resolver.has_scope(expr):
                names = self.resolver.external_names(expr)
            else:  # parsed from a string: resolve the dotted text where the string was
                names = self.resolver.external_names_at(anchor, _dotted(expr))
            return next((q for q in names if q in n.UNSERIALIZABLE_TYPES), None)
        children: Sequence[cst.BaseExpression] = ()
        if isinstance(expr, cst.Subscript):
            children = [expr.value] + [
                el.slice.value for el in expr.slice if isinstance(el.slice, cst.Index)
            ]
        elif isinstance(expr, cst.BinaryOperation):
            children = [expr.left, expr.right]
        elif isinstance(expr, (cst.List, cst.Tuple)):
            children = [el.value for el in expr.elements]
        elif isinstance(expr, cst.SimpleString):
            children = _parse_quoted(expr)
        for child in children:
            found = self._unserializable(child, anchor)
            if found is not None:
                return found
        return None


def _parse_quoted(expr: cst.SimpleString) -> list[cst.BaseExpression]:
    value = expr.evaluated_value
    if not isinstance(value, str):
        return []
    try:
        return [cst.parse_expression(value.strip())]
    except cst.ParserSyntaxError:
        return []


class _BodyVisitor(cst.CSTVisitor):
    def __init__(self, checker: _ModuleChecker, walk: _Walk) -> None:
        self.c = checker
        self.walk = walk
        self.helpers: list[FunctionInfo] = []
        self.in_workflow = walk.kind is Kind.WORKFLOW

    def _report(self, node: cst.CSTNode, code: str, name: str) -> None:
        self.c.report(node, code, name, self.walk)

    # Nested workflows/steps/transactions are roots of their own walks.
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        info = self.c.index.functions.get(node)
        return info is None or info.kind is Kind.PLAIN

    def visit_Assign(self, node: cst.Assign) -> None:
        record_binding(self.c.index.bound_values, node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        record_binding(self.c.index.bound_values, node)

    def visit_Param(self, node: cst.Param) -> None:
        record_binding(self.c.index.bound_values, node)

    def visit_Call(self, node: cst.Call) -> None:
        names = self.c.resolver.external_names(node.func)
        if self.in_workflow:
            self._determinism(node, names)
        else:
            self._step_misuse(node, names)
        self._local_target(node)

    def _determinism(self, node: cst.Call, names: list[str]) -> None:
        pure = is_pure_chain(node.func)
        for name in names:
            code = self.c.call_code(name, pure, len(node.args))
            if code is not None:
                self._report(node, code, name)
                return

    def _step_misuse(self, node: cst.Call, names: list[str]) -> None:
        found = set(names)
        if found & n.RECV_CALLS:
            self._report(node, n.RECV_OUTSIDE, _dotted(node.func))
        if found & n.START_WORKFLOW_CALLS:
            self._report(node, n.WORKFLOW_IN_STEP, _dotted(node.func))
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in n.ENQUEUE_METHODS
            and isinstance(func.value, cst.Name)
            and self.c.resolver.global_name(func.value) in self.c.index.queues
        ):
            self._report(node, n.WORKFLOW_IN_STEP, _dotted(func))

    def _local_target(self, node: cst.Call) -> None:
        """Follow calls into this module's functions: helpers are walked, workflows noted."""
        func = node.func
        target: FunctionInfo | None = None
        current = self.walk.current
        if isinstance(func, cst.Name):
            if self.c.resolver.global_name(func) is not None:
                target = self.c.index.module_functions.get(func.value)
        elif (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and current.self_name is not None
            and func.value.value == current.self_name
        ):
            target = current.siblings.get(func.attr.value)
        if target is None:
            return
        if target.kind is Kind.PLAIN and self.in_workflow:
            self.helpers.append(target)
        elif target.kind is Kind.WORKFLOW and not self.in_workflow:
            self._report(node, n.WORKFLOW_IN_STEP, _dotted(func))

    # -- names read without a call -------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _ACCESS_LEAVES:
            self._access(node)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in _ACCESS_LEAVES:
            self._access(node)

    def _access(self, node: cst.Name | cst.Attribute) -> None:
        for name in self.c.resolver.external_names(node):
            if name in n.SQL_SESSION_NAMES:
                if self.walk.kind is not Kind.TRANSACTION:
                    self._report(node, n.SQL_SESSION, "DBOS.sql_session")
                return
            if self.in_workflow and name in n.ACCESSES and not self.c.settings.is_allowed(name):
                self._report(node, n.ACCESSES[name], name)
                return

    # -- iteration order -------------------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        self._iteration(node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._iteration(node.iter)

    def _iteration(self, expr: cst.BaseExpression) -> None:
        if not self.in_workflow:
            return
        described = self._set_description(expr, follow_names=True)
        if described is not None:
            self._report(expr, n.SET_ORDER, described)

    def _set_description(self, expr: cst.BaseExpression, *, follow_names: bool) -> str | None:
        if isinstance(expr, cst.Set):
            return "a set literal"
        if isinstance(expr, cst.SetComp):
            return "a set comprehension"
        if isinstance(expr, cst.Call):
            for name in self.c.resolver.external_names(expr.func):
                if name in ("builtins.set", "builtins.frozenset"):
                    return f"`{name.split('.')[-1]}(...)`"
            return None
        if isinstance(expr, cst.Name) and follow_names:
            values = self.c.resolver.bindings(expr)
            if values and all(v is not None and self._is_set(v) for v in values):
                return f"`{expr.value}` (a set)"
        return None

    def _is_set(self, value: cst.BaseExpression) -> bool:
        if self._set_description(value, follow_names=False) is not None:
            return True
        base = value.value if isinstance(value, cst.Subscript) else value
        if isinstance(base, (cst.Name, cst.Attribute)):
            return any(q in n.SET_TYPES for q in self.c.resolver.external_names(base))
        return False


def _all_params(node: cst.FunctionDef) -> list[cst.Param]:
    params = node.params
    found: list[cst.Param] = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.append(star)
    return found


def _dotted(expr: cst.BaseExpression) -> str:
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        parts.append(expr.value)
    return ".".join(reversed(parts))


def check_module(module: cst.Module, settings: Settings | None = None) -> list[Finding]:
    """Findings for an already-parsed module, before suppressions are applied."""
    return _ModuleChecker(module, settings or Settings()).run()


def _syntax_finding(raw: bytes, exc: cst.ParserSyntaxError) -> Finding:
    """Prefer CPython's own diagnosis: its positions are exact, libcst's often are not."""
    line, column, reason = exc.raw_line, exc.raw_column + 1, exc.message
    try:
        ast.parse(raw)
    except SyntaxError as py_exc:
        line, column, reason = py_exc.lineno or 1, py_exc.offset or 1, py_exc.msg
    except ValueError:  # e.g. null bytes; keep libcst's answer
        pass
    return Finding(line, column, n.SYNTAX, RULES[n.SYNTAX].format(reason))


def check_source(
    source: str | bytes, settings: Settings | None = None, *, suppress: bool = True
) -> list[Finding]:
    """Parse and check one module. A syntax error becomes a DBOS000 finding, never an exception.

    Modules that never mention ``dbos`` or a ``.workflow``/``.step``/``.transaction`` attribute
    cannot define a decorated function (the decorator must resolve to ``dbos.DBOS.workflow`` and
    friends), and every rule applies inside one; such modules are only parsed, which keeps
    whole-repository runs cheap.
    """
    raw = source.encode("utf-8") if isinstance(source, str) else source
    try:
        module = cst.parse_module(raw)
    except cst.ParserSyntaxError as exc:
        return [_syntax_finding(raw, exc)]
    if b"dbos" not in raw or not _DECORATOR_HINT.search(raw):
        return []
    findings = check_module(module, settings)
    if not suppress or not findings:
        return findings
    suppressions = parse_suppressions(raw)
    return [f for f in findings if not is_suppressed(suppressions, f.line, f.code)]
