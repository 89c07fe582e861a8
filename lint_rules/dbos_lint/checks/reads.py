"""What a body reads: host state (DBOS401: ``os.environ``, ``sys.argv``, merely read), the
transaction's session (DBOS701, reported by ``dbos70x_api_misuse``), and properties of project
objects, whose getters run in the workflow (followed like a call).

Every name and attribute of a body passes here, so this is kept cheap (see ``_access``). Calls
of host-state functions (``os.getenv``) are judged in ``calls``; the rule's text and tables:
``catalogue/dbos40x_shared_state.py``.
"""

from __future__ import annotations

from typing import cast

import libcst as cst

from dbos_lint.analysis import classes
from dbos_lint.analysis.project import Project
from dbos_lint.analysis.scopes import Bind, Binding
from dbos_lint.analysis.values import Ext, Frame, ProjInst
from dbos_lint.catalogue import names as n
from dbos_lint.catalogue.dbos70x_api_misuse import SQL_SESSION_NAMES
from dbos_lint.checks.dbos70x_api_misuse import ApiMisuseRules

#: Attribute names whose read may be host state or the transaction session.
_ACCESS_LEAVES = frozenset(name.rsplit(".", 1)[-1] for name in n.ACCESSES) | {"sql_session"}


class ReadRules(ApiMisuseRules):
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
            self._session_read(node)
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
