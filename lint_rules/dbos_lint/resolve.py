"""Name resolution on top of libcst's ScopeProvider.

Qualified names are computed lazily, only for the expressions a rule asks about: resolving every
node of every module (what QualifiedNameProvider does) would cost more than the rules themselves.
Only names bound by an import or a builtin count as "the module"; a parameter or local called
``time`` resolves to ``f.<locals>.time`` and matches nothing in the deny-list.
"""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst
from libcst.metadata import (
    Assignment,
    QualifiedName,
    QualifiedNameSource,
    Scope,
)

_EXTERNAL = (QualifiedNameSource.IMPORT, QualifiedNameSource.BUILTIN)


class Resolver:
    """Answers "what does this expression name?" for one parsed module."""

    def __init__(
        self,
        scopes: Mapping[cst.CSTNode, Scope | None],
        bound_values: Mapping[cst.CSTNode, cst.BaseExpression | None],
    ) -> None:
        self._scopes = scopes
        # Name target node (or Param) -> the value/annotation it was bound to.
        self._bound_values = bound_values

    def _qnames(self, node: cst.CSTNode) -> set[QualifiedName]:
        scope = self._scopes.get(node)
        if scope is None:
            return set()
        return set(scope.get_qualified_names_for(node))

    def external_names(self, node: cst.CSTNode) -> list[str]:
        """Names bound by imports or builtins, sorted so reports are deterministic."""
        return sorted(q.name for q in self._qnames(node) if q.source in _EXTERNAL)

    def has_scope(self, node: cst.CSTNode) -> bool:
        return self._scopes.get(node) is not None

    def external_names_at(self, anchor: cst.CSTNode, dotted: str) -> list[str]:
        """Resolve a dotted name written in a string (a quoted annotation) where anchor is."""
        scope = self._scopes.get(anchor)
        if scope is None:
            return []
        found = scope.get_qualified_names_for(dotted)
        return sorted(q.name for q in found if q.source in _EXTERNAL)

    def global_name(self, node: cst.Name) -> str | None:
        """The module-level name ``node`` refers to, if it is not shadowed locally."""
        for q in self._qnames(node):
            if q.source is QualifiedNameSource.LOCAL and q.name == node.value:
                return node.value
        return None

    def bindings(self, node: cst.Name) -> list[cst.BaseExpression | None] | None:
        """What a name was bound to, one entry per assignment reaching this access.

        Returns None when any binding is something other than a plain assignment or parameter
        (an import, a for target, ``global``...): callers then make no claim about the value.
        """
        scope = self._scopes.get(node)
        if scope is None:
            return None
        values: list[cst.BaseExpression | None] = []
        for access in scope.accesses[node.value]:
            if access.node is not node:
                continue
            for ref in access.referents:
                if not isinstance(ref, Assignment) or ref.node not in self._bound_values:
                    return None
                values.append(self._bound_values[ref.node])
        return values or None


def is_pure_chain(expr: cst.BaseExpression) -> bool:
    """``a.b.c`` but not ``a(x).b``: only pure chains may match a whole deny-listed module."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return isinstance(expr, cst.Name)
