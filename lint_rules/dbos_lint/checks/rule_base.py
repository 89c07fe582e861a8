"""What every body rule stands on: the walk (the root it serves, where it stands), what it
reports to, and the two things every rule does (report a finding, follow a project function).

Shared by the rule families (``reads``, ``calls`` and the modules named by code) and the
traversal (``body_walker``); kept apart so that each of those files holds one job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import libcst as cst

from dbos_lint.analysis.evaluate import Evaluator
from dbos_lint.analysis.parsed_module import FunctionInfo, Kind, ParsedModule
from dbos_lint.analysis.values import ProjClass, ProjInst
from dbos_lint.catalogue import codes
from dbos_lint.catalogue import names as n
from dbos_lint.catalogue.settings import Settings

Receiver = ProjInst | ProjClass | None


@dataclass(frozen=True)
class Walk:
    """Where a body walk stands: which root it serves, the function walked, the module it lives
    in, the helper chain that got here (``crossed`` once the chain left the root's file) and
    what ``self`` is."""

    kind: Kind
    root: FunctionInfo
    current: FunctionInfo
    module: ParsedModule
    chain: tuple[str, ...] = ()
    crossed: bool = False
    receiver: Receiver = None


class Reporter(Protocol):
    evaluator: Evaluator
    settings: Settings

    def report(
        self,
        module: ParsedModule,
        node: cst.CSTNode,
        code: str,
        name: str,
        walk: Walk | None,
        origin: cst.CSTNode | None = None,
    ) -> None: ...


class RuleBase:
    """State every rule reads, and the two things every rule does: report, and ask for a
    project function to be walked next."""

    def __init__(self, reporter: Reporter, walk: Walk) -> None:
        self.r = reporter
        self.ev = reporter.evaluator
        self.walk = walk
        self.module = walk.module
        self.workflow = walk.kind is Kind.WORKFLOW
        #: Project functions this body calls that must be walked too (with their receiver).
        self.helpers: list[tuple[FunctionInfo, Receiver]] = []
        self.first_yield: cst.Yield | None = None
        #: Comprehensions consumed by an order-free builtin, and their ``for`` clauses.
        self._order_free: set[cst.CSTNode] = set()
        self._order_free_clauses: set[cst.CSTNode] = set()
        self._root_scope = self.module.index.function_scope(walk.current)

    def _report(
        self, node: cst.CSTNode, code: str, name: str, origin: cst.CSTNode | None = None
    ) -> None:
        self.r.report(self.module, node, code, name, self.walk, origin)

    def _follow(self, info: FunctionInfo, receiver: Receiver, call: cst.Call | None = None) -> None:
        """Walk a project function next, unless the configuration names it: an
        ``extra-allowed`` helper is trusted, an ``extra-forbidden`` one is reported."""
        dotted = info.module.dotted
        if dotted and call is not None:
            name = f"{dotted}.{info.qualname}"
            if self.r.settings.is_allowed(name):
                return
            if n.matches_name(name, self.r.settings.extra_forbidden):
                self._report(call, codes.CONFIGURED, name)
                return
        if info.kind is Kind.PLAIN and info.parent is None:
            self.helpers.append((info, receiver))
