"""DBOS701-704: the DBOS API used where it cannot work: ``DBOS.sql_session`` outside a
transaction, and, inside a step or transaction, ``DBOS.recv`` or starting, enqueueing or
calling a workflow; in a workflow, an ``except`` that swallows the runtime's control flow.

Steps and transactions are the sanctioned place for nondeterminism, so these are the only
rules their bodies are checked against. The rules' text and tables:
``catalogue/dbos70x_api_misuse.py``.
"""

from __future__ import annotations

import libcst as cst

from dbos_lint.analysis.parsed_module import Kind
from dbos_lint.analysis.syntax import dotted
from dbos_lint.analysis.values import Bound, Either, Ext, Frame, Method, ProjFunc, Value
from dbos_lint.catalogue import codes
from dbos_lint.catalogue.dbos70x_api_misuse import (
    ENQUEUE_METHODS,
    QUEUE_CLASSES,
    RECV_CALLS,
    START_WORKFLOW_CALLS,
    SWALLOWING_TYPES,
)
from dbos_lint.checks.rule_base import RuleBase


class ApiMisuseRules(RuleBase):
    def _session_read(self, node: cst.Name | cst.Attribute) -> None:
        """A read of ``DBOS.sql_session`` (under any alias)."""
        if self.walk.kind is not Kind.TRANSACTION:
            self._report(node, codes.SQL_SESSION, "DBOS.sql_session")

    def _misuse(self, node: cst.Call, func: Value) -> None:
        """A call in a step or transaction, judged by what its callee evaluates to."""
        if isinstance(func, Either):
            for option in func.options:
                self._misuse(node, option)
        elif isinstance(func, Ext):
            if func.name in RECV_CALLS:
                self._report(node, codes.RECV_OUTSIDE, dotted(node.func))
            elif func.name in START_WORKFLOW_CALLS:
                self._report(node, codes.WORKFLOW_IN_STEP, dotted(node.func))
        elif isinstance(func, Method):
            if func.obj.cls in QUEUE_CLASSES and func.name in ENQUEUE_METHODS:
                self._report(node, codes.WORKFLOW_IN_STEP, dotted(node.func))
        elif isinstance(func, (ProjFunc, Bound)) and func.func.kind is Kind.WORKFLOW:
            self._report(node, codes.WORKFLOW_IN_STEP, dotted(node.func))

    def _except_handler(
        self, node: cst.ExceptHandler | cst.ExceptStarHandler, frame: Frame
    ) -> None:
        """DBOS704: in a workflow (and the helpers it calls), an ``except`` that catches
        ``BaseException`` (bare, by name or in a tuple) and has no ``raise`` that re-raises.
        Steps are exempt: the runtime never unwinds one."""
        if not self.workflow:
            return
        if node.type is None:
            caught = "except:"
        else:
            types = node.type.elements if isinstance(node.type, cst.Tuple) else None
            exprs = [e.value for e in types] if types is not None else [node.type]
            names = [self.ev.value(e, frame) for e in exprs]
            hit = [v.name for v in names if isinstance(v, Ext) and v.name in SWALLOWING_TYPES]
            if not hit:
                return
            caught = f"except {hit[0].removeprefix('builtins.')}"
        bound = (
            node.name.name.value
            if node.name is not None and isinstance(node.name.name, cst.Name)
            else None
        )
        if not _reraises(node.body, bound):
            self._report(node, codes.SWALLOWED_UNWIND, caught)


_NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def _reraises(body: cst.BaseSuite, bound: str | None) -> bool:
    """A bare ``raise``, or a ``raise`` of the bound name, anywhere in the handler (a nested
    function's does not count: it does not run as part of the handler)."""
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Raise):
            exc = node.exc
            if exc is None or (
                bound is not None and isinstance(exc, cst.Name) and exc.value == bound
            ):
                return True
        elif isinstance(node, _NESTED_SCOPES):
            continue
        stack.extend(node.children)
    return False
