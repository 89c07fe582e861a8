"""DBOS501: a workflow that depends on set order (iterating, indexing, unpacking, joining,
popping or taking ``next()`` of a set, or of a list made from one).

Which values iterate in set order is the value flow's answer (``analysis/evaluate.py``: sets,
set operations, ``list(s)``...); this module decides where that order shows. A name sorted in
place anywhere in its scope (``names.sort()``) does not, nor does a set consumed whole by an
order-free builtin (``any(f(t) for t in tags)``). The rule's text and tables:
``catalogue/dbos50x_order_and_identity.py``.
"""

from __future__ import annotations

import libcst as cst

from dbos_lint.analysis.syntax import dotted
from dbos_lint.analysis.values import Frame, Method, Value, describe
from dbos_lint.catalogue import codes
from dbos_lint.checks.rule_base import RuleBase


class SetOrderRules(RuleBase):
    def _in_set_order(self, expr: cst.BaseExpression, frame: Frame) -> Value | None:
        """The value of ``expr`` if it iterates in set order (a name sorted in place anywhere
        in its scope, ``names.sort()``, does not)."""
        value = self.ev.value(expr, frame)
        if not value.unordered:
            return None
        if isinstance(expr, cst.Name):
            bindings = frame.scope.lookup(expr.value) or []
            if any(b.scope.is_sorted_in_place(expr.value) for b in bindings):
                return None
        return value

    def _iteration(self, expr: cst.BaseExpression, frame: Frame) -> None:
        if self.workflow:
            value = self._in_set_order(expr, frame)
            if value is not None:
                self._report(expr, codes.SET_ORDER, f"iterating {self._what(expr, value)}")

    def _subscript(self, node: cst.Subscript, frame: Frame) -> None:
        if self.workflow:
            value = self._in_set_order(node.value, frame)
            if value is not None:
                self._report(node, codes.SET_ORDER, f"indexing {self._what(node.value, value)}")

    def _unpacking(self, node: cst.Assign, frame: Frame) -> None:
        """``a, b = s`` (in a workflow)."""
        if any(isinstance(t.target, (cst.Tuple, cst.List)) for t in node.targets):
            value = self._in_set_order(node.value, frame)
            if value is not None:
                what = self._what(node.value, value)
                self._report(node.value, codes.SET_ORDER, f"unpacking {what}")

    def _order_free_argument(self, node: cst.Call) -> None:
        """``any(f(t) for t in tags)``: an order-free builtin consumes the comprehension whole,
        so the comprehension may iterate a set (the walk then skips its ``for`` clauses)."""
        if len(node.args) == 1:
            argument = node.args[0].value
            if isinstance(argument, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
                self._order_free.add(argument)

    def _first_element(self, node: cst.Call, frame: Frame) -> None:
        """``next(iter(s))``: which element comes first is set order."""
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if positional:
            value = self._in_set_order(positional[0], frame)
            if value is not None:
                self._report(node, codes.SET_ORDER, f"taking `next(...)` of {describe(value)}")

    def _order_of_method(
        self, node: cst.Call, method: Method, cls: str, receiver: cst.BaseExpression, frame: Frame
    ) -> None:
        """``",".join(s)`` and ``s.pop()`` on a set."""
        if method.name == "join" and cls == "builtins.str" and node.args:
            joined = self._in_set_order(node.args[0].value, frame)
            if joined is not None:
                what = self._what(node.args[0].value, joined)
                self._report(node, codes.SET_ORDER, f"joining {what}")
        elif method.name == "pop" and cls == "builtins.set" and method.obj.unordered:
            if not node.args:
                shown = dotted(receiver) or "set"
                self._report(node, codes.SET_ORDER, f"`{shown}.pop()` on a set")

    @staticmethod
    def _what(expr: cst.BaseExpression, value: Value) -> str:
        if isinstance(expr, cst.Name):
            return f"`{expr.value}` ({describe(value)})"
        return describe(value)
