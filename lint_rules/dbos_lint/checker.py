"""The libcst checker: walks workflow bodies (and what they reach) against the catalogue.

Three kinds of walk share one visitor:

* a workflow body, including its lambdas, comprehensions and nested plain functions, plus the
  module's plain functions (and ``self.`` methods) it calls, transitively, with the call chain
  kept for the message; given a :class:`~dbos_lint.project.Project`, plain functions imported
  from other modules of the project are followed the same way (parsed once per run), and what
  is found there is reported in that file, naming the workflow, its file and the chain;
* a step or transaction body, where only API misuse is checked (steps are the sanctioned place
  for nondeterminism);
* signatures of workflows, steps and transactions (serializability of inputs/outputs).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider, ScopeProvider

from dbos_lint import names as n
from dbos_lint.catalogue import RULES
from dbos_lint.collect import FunctionInfo, Kind, ModuleIndex, index_module, record_binding
from dbos_lint.model import Finding, Settings
from dbos_lint.project import Analysis, Project
from dbos_lint.resolve import Resolver, is_pure_chain
from dbos_lint.suppress import is_suppressed, parse_suppressions

_DECORATOR_HINT = re.compile(rb"\.\s*(?:workflow|step|transaction)\b")
_ACCESS_LEAVES = frozenset(name.rsplit(".", 1)[-1] for name in n.ACCESSES) | {"sql_session"}


@dataclass(frozen=True)
class _Walk:
    """Where a body walk stands: which root it serves, the module the current function lives in,
    and the helper chain that got here (``crossed`` once the chain left the workflow's file)."""

    kind: Kind
    root: FunctionInfo
    current: FunctionInfo
    module: _ModuleChecker
    chain: tuple[str, ...] = ()
    crossed: bool = False


@dataclass(frozen=True)
class _Pending:
    module: _ModuleChecker
    node: cst.CSTNode
    code: str
    message: str
    workflow: str | None
    chain: tuple[str, ...]


class _ModuleChecker:
    """One parsed and indexed module. Holds no findings, so a helper module can be shared by
    every analysis of a run (see ``Project.module``)."""

    def __init__(
        self,
        module: cst.Module,
        settings: Settings,
        path: Path | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.settings = settings
        self.path = path
        self.raw = raw
        self.index = ModuleIndex()
        scopes = self.wrapper.resolve(ScopeProvider)
        self.resolver = Resolver(scopes, self.index.bound_values)
        index_module(self.wrapper.module, self.resolver, self.index)
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None
        self._suppressions: dict[int, frozenset[str] | None] | None = None

    @property
    def short_name(self) -> str:
        """How a chain names this module: ``helpers`` for app/helpers.py, ``app`` for
        app/__init__.py."""
        if self.path is None:
            return "<module>"
        return self.path.parent.name if self.path.name == "__init__.py" else self.path.stem

    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        """Computed only when there is something to report: the position pass regenerates the
        whole module's code and would otherwise dominate clean files."""
        if self._positions is None:
            self._positions = self.wrapper.resolve(PositionProvider)
        return self._positions

    def suppressions(self) -> dict[int, frozenset[str] | None]:
        if self._suppressions is None:
            self._suppressions = parse_suppressions(self.raw) if self.raw is not None else {}
        return self._suppressions

    # -- name classification -----------------------------------------------------------------
    def call_code(self, name: str, pure: bool, nargs: int) -> str | None:
        return n.classify_call(
            name,
            nargs=nargs,
            allow_module_prefix=pure,
            extra_forbidden=self.settings.extra_forbidden,
            extra_allowed=self.settings.extra_allowed,
        )

    def unserializable_annotations(self, info: FunctionInfo) -> list[tuple[cst.CSTNode, str, str]]:
        """(annotation, code, type name) for each non-serializable parameter/return type."""
        found: list[tuple[cst.CSTNode, str, str]] = []
        annotated = [
            (param.annotation.annotation, n.PARAM_TYPE)
            for param in _all_params(info.node)
            if param.annotation is not None
        ]
        if info.node.returns is not None:
            annotated.append((info.node.returns.annotation, n.RETURN_TYPE))
        for expr, code in annotated:
            bad = self._unserializable(expr, expr)
            if bad is not None:
                found.append((expr, code, bad))
        return found

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


class _Analysis:
    """One checked file: its roots' walks, everything they report (in this file or in helper
    files of the project) and the project files they depended on."""

    def __init__(
        self,
        root: _ModuleChecker,
        project: Project[_ModuleChecker] | None,
        display: str | None,
    ) -> None:
        self.root = root
        self.project = project
        self.display = display or (root.path.name if root.path is not None else "<module>")
        self.pending: dict[tuple[int, int, str], _Pending] = {}
        self.record = Analysis()

    # -- reporting -------------------------------------------------------------------------
    def report(
        self,
        module: _ModuleChecker,
        node: cst.CSTNode,
        code: str,
        name: str,
        walk: _Walk | None,
    ) -> None:
        key = (id(module), id(node), code)
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
                where = f" in {self.display}" if walk.crossed else ""
                message += f" (reached from workflow `{workflow}`{where} via {via})"
        self.pending[key] = _Pending(module, node, code, message, workflow, chain)

    def findings(self) -> tuple[list[Finding], dict[str, list[Finding]]]:
        """This file's findings (unsuppressed) and, per helper file, those made there
        (with that file's suppressions already applied)."""
        own: list[Finding] = []
        foreign: dict[str, list[Finding]] = {}
        for p in self.pending.values():
            pos = p.module.positions()[p.node]
            finding = Finding(
                line=pos.start.line,
                column=pos.start.column + 1,
                code=p.code,
                message=p.message,
                end_line=pos.end.line,
                end_column=pos.end.column + 1,
                workflow=p.workflow,
                chain=p.chain,
            )
            if p.module is self.root:
                own.append(finding)
            elif p.module.path is not None:
                if not is_suppressed(p.module.suppressions(), finding.line, finding.code):
                    foreign.setdefault(p.module.path.as_posix(), []).append(finding)
        return sorted(own), {path: sorted(found) for path, found in sorted(foreign.items())}

    # -- drivers -----------------------------------------------------------------------------
    def run(self) -> None:
        for info in self.root.index.functions.values():
            if info.kind is Kind.PLAIN:
                continue
            for expr, code, bad in self.root.unserializable_annotations(info):
                self.report(self.root, expr, code, bad, None)
            self.walk_root(info)

    def walk_root(self, root: FunctionInfo) -> None:
        pending = [_Walk(kind=root.kind, root=root, current=root, module=self.root)]
        seen = {root.node}
        while pending:
            walk = pending.pop(0)
            visitor = _BodyVisitor(self, walk)
            for param in _all_params(walk.current.node):
                record_binding(walk.module.index.bound_values, param)
            walk.current.node.body.visit(visitor)
            for module, helper in visitor.helpers:
                if helper.node not in seen:
                    seen.add(helper.node)
                    crossed = walk.crossed or module is not self.root
                    link = helper.qualname
                    if module is not self.root:
                        link = f"{module.short_name}.{helper.qualname}"
                    chain = (*walk.chain, link)
                    pending.append(_Walk(walk.kind, root, helper, module, chain, crossed))

    # -- following into other modules of the project ------------------------------------------
    def follow(
        self, module: _ModuleChecker, name: str
    ) -> tuple[_ModuleChecker, FunctionInfo] | None:
        """The plain module-level function of the project that the imported ``name`` (e.g.
        ``app.helpers.compute`` or ``.helpers.compute``) denotes, parsed once per run."""
        if self.project is None or module.path is None:
            return None
        stripped = name.lstrip(".")
        dots = name[: len(name) - len(stripped)]
        package, _, func = stripped.rpartition(".")
        target_module = dots + package
        if not target_module or not self.project.is_candidate(target_module):
            return None
        importer = "" if module is self.root else module.path.as_posix()
        target = self.project.resolve(module.path, target_module)
        self.record.resolutions[(importer, target_module)] = (
            target.as_posix() if target is not None else None
        )
        if target is None:
            return None
        if target == self.root.path:
            checker: _ModuleChecker | None = self.root
        else:
            settings = self.root.settings
            checker = self.project.module(target, lambda raw: _load(raw, settings, target))
            digest = self.project.file_hash(target)
            if digest is not None:
                self.record.deps[target.as_posix()] = digest
        if checker is None:
            return None
        info = checker.index.module_functions.get(func)
        if info is None:
            return None
        return checker, info


def _load(raw: bytes, settings: Settings, path: Path) -> _ModuleChecker | None:
    """A helper module as the checker sees it; one that does not parse is not followed (it is
    reported as DBOS000 when checked itself)."""
    try:
        module = cst.parse_module(raw)
    except cst.ParserSyntaxError:
        return None
    return _ModuleChecker(module, settings, path, raw)


def _parse_quoted(expr: cst.SimpleString) -> list[cst.BaseExpression]:
    value = expr.evaluated_value
    if not isinstance(value, str):
        return []
    try:
        return [cst.parse_expression(value.strip())]
    except cst.ParserSyntaxError:
        return []


class _BodyVisitor(cst.CSTVisitor):
    def __init__(self, analysis: _Analysis, walk: _Walk) -> None:
        self.a = analysis
        #: The module the walked function lives in: names resolve against its imports.
        self.c = walk.module
        self.walk = walk
        self.helpers: list[tuple[_ModuleChecker, FunctionInfo]] = []
        self.in_workflow = walk.kind is Kind.WORKFLOW

    def _report(self, node: cst.CSTNode, code: str, name: str) -> None:
        self.a.report(self.c, node, code, name, self.walk)

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
            if not self._determinism(node, names):
                self._imported_target(names)
        else:
            self._step_misuse(node, names)
        self._local_target(node)

    def _determinism(self, node: cst.Call, names: list[str]) -> bool:
        pure = is_pure_chain(node.func)
        for name in names:
            code = self.c.call_code(name, pure, len(node.args))
            if code is not None:
                self._report(node, code, name)
                return True
        return False

    def _imported_target(self, names: list[str]) -> None:
        """Follow a call into a plain function of another project module. Steps are exempt and
        a workflow called from here is a child workflow, checked on its own."""
        for name in names:
            found = self.a.follow(self.c, name)
            if found is not None:
                if found[1].kind is Kind.PLAIN:
                    self.helpers.append(found)
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
            self.helpers.append((self.c, target))
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
    analysis = _Analysis(_ModuleChecker(module, settings or Settings()), None, None)
    analysis.run()
    return analysis.findings()[0]


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


def new_project(root: Path) -> Project[_ModuleChecker]:
    """A per-run project for ``check_source(..., project=...)`` (the module type stays private)."""
    return Project(root)


def check_source(
    source: str | bytes,
    settings: Settings | None = None,
    *,
    suppress: bool = True,
    path: Path | None = None,
    project: Project[_ModuleChecker] | None = None,
    display: str | None = None,
) -> list[Finding]:
    """Parse and check one module. A syntax error becomes a DBOS000 finding, never an exception.

    Modules that never mention ``dbos`` or a ``.workflow``/``.step``/``.transaction`` attribute
    cannot define a decorated function (the decorator must resolve to ``dbos.DBOS.workflow`` and
    friends), and every rule applies inside one; such modules are only parsed, which keeps
    whole-repository runs cheap.

    With ``path`` and ``project``, plain functions the workflows call in other modules of the
    project are followed too; what that found outside this file and which files it read are
    left in ``project.analyses[path]`` (the runner merges and caches them). ``display`` names
    this file in the messages of findings reached across modules.
    """
    raw = source.encode("utf-8") if isinstance(source, str) else source
    resolved = path.resolve() if path is not None else None
    if project is not None and resolved is not None:
        project.analyses[resolved] = Analysis()
    try:
        module = cst.parse_module(raw)
    except cst.ParserSyntaxError as exc:
        return [_syntax_finding(raw, exc)]
    if b"dbos" not in raw or not _DECORATOR_HINT.search(raw):
        return []
    settings = settings or Settings()
    analysis = _Analysis(_ModuleChecker(module, settings, resolved, raw), project, display)
    analysis.run()
    findings, analysis.record.foreign = analysis.findings()
    if project is not None and resolved is not None:
        project.analyses[resolved] = analysis.record
    if not suppress or not findings:
        return findings
    suppressions = analysis.root.suppressions()
    return [f for f in findings if not is_suppressed(suppressions, f.line, f.code)]
