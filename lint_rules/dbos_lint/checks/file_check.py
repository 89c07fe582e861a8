"""The libcst checker: walks workflow bodies (and what they reach) against the catalogue.

For one checked file, every workflow, step and transaction is a root:

* a workflow body is walked, then every plain function, method, constructor or property it
  calls (in this module or, given a :class:`~dbos_lint.analysis.project.Project`, in any
  module of the project, through imports and re-exports), transitively and with the call chain
  kept for the message; what is found in another file is reported there, naming the workflow,
  its file and the chain;
* a step or transaction body is walked for API misuse only;
* signatures are checked for values that cannot be recorded.

Names resolve through the checker's own scopes and value flow (``scopes``, ``evaluate``), built
only for the functions a walk enters; positions are computed only for reported nodes.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from dbos_lint.analysis.classes import receiver_key
from dbos_lint.analysis.evaluate import Evaluator
from dbos_lint.analysis.parsed_module import FunctionInfo, Kind, ParsedModule, load_module
from dbos_lint.analysis.project import Project, ProjectTrace
from dbos_lint.analysis.suppressions import is_suppressed
from dbos_lint.analysis.values import ProjClass, ProjInst
from dbos_lint.catalogue import RULES, codes
from dbos_lint.catalogue.finding import Finding
from dbos_lint.catalogue.settings import Settings
from dbos_lint.checks.body_walker import BodyWalker
from dbos_lint.checks.dbos60x_signatures import generator_finding, signature_findings
from dbos_lint.checks.rule_base import Receiver, Walk

_DECORATOR_HINT = re.compile(rb"\.\s*(?:workflow|step|transaction)\b")


@dataclass(frozen=True)
class _Pending:
    module: ParsedModule
    node: cst.CSTNode
    code: str
    message: str
    workflow: str | None
    chain: tuple[str, ...]
    origin: cst.CSTNode | None
    #: The function the node lies in (positions are computed per function).
    within: cst.FunctionDef | None


class FileCheck:
    """One checked file: its roots' walks, everything they report (in this file or in helper
    files of the project) and the project files they depended on."""

    def __init__(
        self,
        root: ParsedModule,
        project: Project[ParsedModule] | None,
        display: str | None,
    ) -> None:
        self.root = root
        self.project = project
        self.settings = root.settings
        self.display = display or (root.path.name if root.path is not None else "<module>")
        self.pending: dict[tuple[int, str], _Pending] = {}
        self.trace = ProjectTrace()
        self.evaluator = Evaluator(self)

    # -- reporting -------------------------------------------------------------------------
    def report(
        self,
        module: ParsedModule,
        node: cst.CSTNode,
        code: str,
        name: str,
        walk: Walk | None,
        origin: cst.CSTNode | None = None,
        within: cst.FunctionDef | None = None,
    ) -> None:
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
                where = f" in {self.display}" if walk.crossed else ""
                message += f" (reached from workflow `{workflow}`{where} via {via})"
        if within is None and walk is not None:
            within = walk.current.node
        self.pending[key] = _Pending(module, node, code, message, workflow, chain, origin, within)

    def findings(self) -> tuple[list[Finding], dict[str, list[Finding]]]:
        """This file's findings (unsuppressed) and, per helper file, those made there (with
        that file's suppressions already applied). A finding on a client's method is dropped
        when the call that made the client was reported for the same reason."""
        kept = [
            p
            for p in self.pending.values()
            if p.origin is None or (id(p.origin), p.code) not in self.pending
        ]
        by_module: dict[int, dict[cst.FunctionDef | None, list[cst.CSTNode]]] = {}
        for p in kept:
            by_module.setdefault(id(p.module), {}).setdefault(p.within, []).append(p.node)
        positions = {id(p.module): p.module.positions(by_module[id(p.module)]) for p in kept}
        own: list[Finding] = []
        foreign: dict[str, list[Finding]] = {}
        for p in kept:
            pos = positions[id(p.module)][p.node]
            finding = Finding(
                line=pos.line,
                column=pos.column + 1,
                code=p.code,
                message=p.message,
                end_line=pos.end_line,
                end_column=pos.end_column + 1,
                workflow=p.workflow,
                chain=p.chain,
            )
            if p.module is self.root:
                own.append(finding)
            elif p.module.path is not None:
                if not is_suppressed(p.module.suppressions(), finding.line, finding.code):
                    foreign.setdefault(p.module.path.as_posix(), []).append(finding)
        return sorted(own), {path: sorted(found) for path, found in sorted(foreign.items())}

    def close(self) -> None:
        """Drop the evaluator (it points back here), so the check is freed at once rather
        than by the cyclic collector."""
        self.evaluator.close()

    # -- drivers -----------------------------------------------------------------------------
    def run(self) -> None:
        for info in self.root.index.functions.values():
            if info.kind is Kind.PLAIN:
                continue
            signature = signature_findings(self.evaluator, self.root, info)
            for expr, code, bad in signature:
                self.report(self.root, expr, code, bad, None, within=info.node)
            generator = generator_finding(info, self.walk_root(info), signature)
            if generator is not None:
                node, code, name = generator
                self.report(self.root, node, code, name, None, within=info.node)

    def walk_root(self, root: FunctionInfo) -> cst.Yield | None:
        """Walk a root and everything it reaches; the root's first own ``yield``, if any."""
        receiver = _receiver_of(root)
        pending = deque([Walk(root.kind, root, root, self.root, receiver=receiver)])
        seen = {(root.node, receiver_key(receiver))}
        first_yield = None
        while pending:
            walk = pending.popleft()
            walker = BodyWalker(self, walk)
            walker.run()
            if walk.current is root:
                first_yield = walker.first_yield
            for helper, helper_receiver in walker.helpers:
                if helper_receiver is None:
                    helper_receiver = _receiver_of(helper)
                key = (helper.node, receiver_key(helper_receiver))
                if key in seen:
                    continue
                seen.add(key)
                module = helper.module
                crossed = walk.crossed or module is not self.root
                link = helper.qualname
                if module is not self.root:
                    link = f"{module.short_name}.{helper.qualname}"
                chain = (*walk.chain, link)
                pending.append(
                    Walk(walk.kind, root, helper, module, chain, crossed, helper_receiver)
                )
        return first_yield

    # -- following into other modules of the project ------------------------------------------
    def module_for(self, importer: ParsedModule, dotted: str) -> ParsedModule | None:
        """The project module ``dotted`` (``app.helpers``, ``.helpers``) names when imported
        from ``importer``, parsed once per run; every lookup is recorded for the cache."""
        if self.project is None or importer.path is None:
            return None
        if not self.project.is_candidate(dotted):
            return None
        key = "" if importer is self.root else importer.path.as_posix()
        target = self.project.resolve(importer.path, dotted)
        self.trace.resolutions[(key, dotted)] = target.as_posix() if target else None
        if target is None:
            return None
        if target == self.root.path:
            return self.root
        settings = self.settings
        found = self.project.module(target, lambda raw: load_module(raw, settings, target))
        if found is not None and not found.dotted:
            found.dotted = self.project.dotted_name(target)
        digest = self.project.file_hash(target)
        if digest is not None:
            self.trace.deps[target.as_posix()] = digest
        return found


def _receiver_of(info: FunctionInfo) -> Receiver:
    """What ``self`` (or ``cls``) is when a method is walked as a root or reached by name."""
    if info.owner is None or info.self_name is None:
        return None
    if info.is_classmethod:
        return ProjClass(info.owner)
    return ProjInst(info.owner)


def check_module(module: cst.Module, settings: Settings | None = None) -> list[Finding]:
    """Findings for an already-parsed module, before suppressions are applied."""
    check = FileCheck(ParsedModule(module, settings or Settings()), None, None)
    check.run()
    found = check.findings()[0]
    check.close()
    return found


def _syntax_finding(raw: bytes, exc: cst.ParserSyntaxError) -> Finding:
    """Prefer CPython's own diagnosis: its positions are exact, libcst's often are not."""
    line, column, reason = exc.raw_line, exc.raw_column + 1, exc.message
    try:
        ast.parse(raw)
    except SyntaxError as py_exc:
        line, column, reason = py_exc.lineno or 1, py_exc.offset or 1, py_exc.msg
    except ValueError:  # e.g. null bytes; keep libcst's answer
        pass
    return Finding(line, column, codes.SYNTAX, RULES[codes.SYNTAX].format(reason))


def new_project(root: Path) -> Project[ParsedModule]:
    """A per-run project for ``check_source(..., project=...)``."""
    return Project(root)


def check_source(
    source: str | bytes,
    settings: Settings | None = None,
    *,
    suppress: bool = True,
    path: Path | None = None,
    project: Project[ParsedModule] | None = None,
    display: str | None = None,
) -> list[Finding]:
    """Parse and check one module. A syntax error becomes a DBOS000 finding, never an exception.

    Modules that never mention ``dbos`` or a ``.workflow``/``.step``/``.transaction`` attribute
    cannot define a decorated function (the decorator must resolve to ``dbos.DBOS.workflow`` and
    friends), and every rule applies inside one; such modules are only parsed, which keeps
    whole-repository runs cheap.

    With ``path`` and ``project``, what the workflows call in other modules of the project is
    followed too; what that found outside this file and which files it read are left in
    ``project.traces[path]`` (the runner merges and caches them). ``display`` names this file
    in the messages of findings reached across modules.
    """
    raw = source.encode("utf-8") if isinstance(source, str) else source
    resolved = path.resolve() if path is not None else None
    settings = settings or Settings()
    if project is not None and resolved is not None:
        project.traces[resolved] = ProjectTrace()
    known, parsed = (False, None)
    if project is not None and resolved is not None:
        known, parsed = project.loaded(resolved, raw)
    if parsed is None:
        try:
            module = cst.parse_module(raw)
        except cst.ParserSyntaxError as exc:
            return [_syntax_finding(raw, exc)]
        if b"dbos" not in raw or not _DECORATOR_HINT.search(raw):
            return []
        parsed = ParsedModule(module, settings, resolved, raw)
        if project is not None and resolved is not None and not known:
            project.remember(resolved, raw, parsed)
    elif b"dbos" not in raw or not _DECORATOR_HINT.search(raw):
        return []
    if project is not None and resolved is not None and not parsed.dotted:
        parsed.dotted = project.dotted_name(resolved)
    check = FileCheck(parsed, project, display)
    check.run()
    findings, check.trace.foreign = check.findings()
    check.close()
    if project is not None and resolved is not None:
        project.traces[resolved] = check.trace
    if not suppress or not findings:
        return findings
    suppressions = check.root.suppressions()
    return [f for f in findings if not is_suppressed(suppressions, f.line, f.code)]
