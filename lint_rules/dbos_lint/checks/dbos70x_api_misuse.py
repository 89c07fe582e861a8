"""DBOS701-703: the DBOS API used where it cannot work: ``DBOS.sql_session`` outside a
transaction, and, inside a step or transaction, ``DBOS.recv`` or starting, enqueueing or
calling a workflow.

Steps and transactions are the sanctioned place for nondeterminism, so these are the only
rules their bodies are checked against. The rules' text and tables:
``catalogue/dbos70x_api_misuse.py``.
"""

from __future__ import annotations

import libcst as cst

from dbos_lint.analysis.parsed_module import Kind
from dbos_lint.analysis.syntax import dotted
from dbos_lint.analysis.values import Bound, Either, Ext, Method, ProjFunc, Value
from dbos_lint.catalogue import codes
from dbos_lint.catalogue.dbos70x_api_misuse import (
    ENQUEUE_METHODS,
    QUEUE_CLASSES,
    RECV_CALLS,
    START_WORKFLOW_CALLS,
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
