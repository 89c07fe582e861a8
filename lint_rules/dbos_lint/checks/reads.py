"""Rules on what a body reads and assigns: host state, set order, state shared by the
process, and ``yield`` (a generator cannot be recorded)."""

from __future__ import annotations

from typing import cast

import libcst as cst

from dbos_lint.analysis import classes
from dbos_lint.analysis.parsed_module import Kind
from dbos_lint.analysis.project import Project
from dbos_lint.analysis.scopes import Bind, Binding
from dbos_lint.analysis.syntax import dotted
from dbos_lint.analysis.values import (
    Ext,
    Frame,
    Inst,
    ProjClass,
    ProjInst,
    ProjModule,
    Value,
    describe,
)
from dbos_lint.catalogue import codes
from dbos_lint.catalogue import names as n
from dbos_lint.catalogue.dbos70x_api_misuse import SQL_SESSION_NAMES
from dbos_lint.checks.rule_base import RuleBase

#: Attribute names whose read may be host state or the transaction session.
_ACCESS_LEAVES = frozenset(name.rsplit(".", 1)[-1] for name in n.ACCESSES) | {"sql_session"}


class ReadRules(RuleBase):
    # -- reads -----------------------------------------------------------------------------------
    def _access(self, node: cst.Name | cst.Attribute, frame: Frame) -> None:
        """Reads of host state (``os.environ``, ``sys.argv``), ``DBOS.sql_session``, and
        properties of project objects (their getters run in the workflow).

        Cheap by construction, because every name and attribute of a body passes here: an
        attribute is evaluated only when its leaf could be such a read or its base is a plain
        name, and a name imported from a possible project module is not looked up (it could be
        a re-export of ``os.environ``, a case not worth parsing every imported module for).
        """
        if type(node) is cst.Name:
            bindings = frame.scope.lookup(node.value)
            if bindings is None:
                return  # a builtin: none is host state when merely read
            found = self.ev.reads.get(id(bindings))
            if found is None:
                found = self.ev.reads[id(bindings)] = self._read_through(
                    node.value, bindings, frame
                )
            if found:
                self._reported_read(node, found)
            return
        node = cast(cst.Attribute, node)
        if node.attr.value not in _ACCESS_LEAVES:
            if self.workflow and type(node.value) is cst.Name:
                self._property(node, frame)
            return
        value = self.ev.value(node, frame)
        if isinstance(value, Ext):
            self._reported_read(node, value.name)

    def _read_through(self, name: str, bindings: list[Binding], frame: Frame) -> str:
        """The host-state (or session) name a variable stands for, or "" (memoised per
        binding list by the caller)."""
        if all(b.kind is Bind.ASSIGN and b.scope.kind not in ("module", "class") for b in bindings):
            return ""  # ``env = os.environ`` was reported where the alias was made
        if all(b.kind is Bind.IMPORT and Project.is_candidate(b.target) for b in bindings):
            return ""  # see above: a re-export of os.environ through the project is not sought
        value = self.ev.bindings(bindings, frame, name)
        if isinstance(value, Ext) and (value.name in n.ACCESSES or value.name in SQL_SESSION_NAMES):
            return value.name
        return ""

    def _reported_read(self, node: cst.Name | cst.Attribute, name: str) -> None:
        if name in SQL_SESSION_NAMES:
            if self.walk.kind is not Kind.TRANSACTION:
                self._report(node, codes.SQL_SESSION, "DBOS.sql_session")
        elif self.workflow and name in n.ACCESSES and not self.r.settings.is_allowed(name):
            self._report(node, n.ACCESSES[name], name)

    def _property(self, node: cst.Attribute, frame: Frame) -> None:
        assert isinstance(node.value, cst.Name)
        if self._project_import(node.value.value, frame):
            return
        base = self.ev.value(node.value, frame)
        if isinstance(base, ProjInst):
            found = classes.find(self.ev, base.cls, node.attr.value)
            if classes.is_property(found):
                assert found is not None and found.method is not None
                self._follow(found.method, base)

    @staticmethod
    def _project_import(name: str, frame: Frame) -> bool:
        bindings = frame.scope.lookup(name)
        return bool(bindings) and all(
            b.kind is Bind.IMPORT and Project.is_candidate(b.target) for b in bindings or ()
        )

    # -- set order -------------------------------------------------------------------------------
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

    @staticmethod
    def _what(expr: cst.BaseExpression, value: Value) -> str:
        if isinstance(expr, cst.Name):
            return f"`{expr.value}` ({describe(value)})"
        return describe(value)

    # -- assignments -----------------------------------------------------------------------------
    def _assign(self, node: cst.Assign, frame: Frame) -> None:
        if not self.workflow:
            return
        if any(isinstance(t.target, (cst.Tuple, cst.List)) for t in node.targets):
            value = self._in_set_order(node.value, frame)
            if value is not None:
                self._report(
                    node.value, codes.SET_ORDER, f"unpacking {self._what(node.value, value)}"
                )
        for target in node.targets:
            self._mutation(target.target, frame)

    def _mutation(self, target: cst.CSTNode, frame: Frame) -> None:
        """Changing state that outlives the workflow: a ``global``, a module-level container or
        object, a class attribute, an attribute of a project module."""
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

    def _yield(self, node: cst.Yield, frame: Frame) -> None:
        if frame.scope is self._root_scope and self.first_yield is None:
            self.first_yield = node


def _outlives_workflows(value: Value) -> bool:
    if isinstance(value, (Inst, ProjInst)):
        return value.shared
    return isinstance(value, (ProjClass, ProjModule))
