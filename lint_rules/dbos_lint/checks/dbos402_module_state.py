"""DBOS402: a workflow that changes state which outlives it: a ``global``, a module-level
container or object, a class attribute, an attribute of a project module.

Whether an object is shared by the process is the value flow's answer (``shared`` values are
made at module or class level); this module decides which statements and calls change one.
The rule's text and tables: ``catalogue/dbos40x_shared_state.py``.
"""

from __future__ import annotations

import libcst as cst

from dbos_lint.analysis.syntax import dotted
from dbos_lint.analysis.values import Frame, Inst, Method, ProjClass, ProjInst, ProjModule, Value
from dbos_lint.catalogue import codes
from dbos_lint.catalogue.dbos40x_shared_state import CONTAINERS, MUTATING_METHODS
from dbos_lint.checks.rule_base import RuleBase


class ModuleStateRules(RuleBase):
    def _mutation(self, target: cst.CSTNode, frame: Frame) -> None:
        """An assignment target (or ``del``, ``for`` target) that changes state outliving the
        workflow."""
        if not self.workflow:
            return
        if isinstance(target, cst.Name):
            if target.value in frame.scope.declared_global:
                self._report(target, codes.MODULE_STATE, target.value)
        elif isinstance(target, (cst.Attribute, cst.Subscript)):
            base = self.ev.value(target.value, frame)
            if _outlives_workflows(base):
                shown = dotted(target) or dotted(target.value) or "module state"
                self._report(target, codes.MODULE_STATE, shown)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._mutation(element.value, frame)
        elif isinstance(target, cst.StarredElement):
            self._mutation(target.value, frame)

    def _shared_container_change(
        self, node: cst.Call, method: Method, cls: str, receiver: cst.BaseExpression
    ) -> None:
        """``LOG.append(x)`` on a container shared by the process."""
        if method.obj.shared and method.name in MUTATING_METHODS and cls in CONTAINERS:
            self._report(node, codes.MODULE_STATE, dotted(receiver) or cls)


def _outlives_workflows(value: Value) -> bool:
    if isinstance(value, (Inst, ProjInst)):
        return value.shared
    return isinstance(value, (ProjClass, ProjModule))
