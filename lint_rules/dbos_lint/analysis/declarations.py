"""What a module declares for dbos, as the checker reads it: which functions are durable (a
workflow, a step, a transaction) and which dotted name an expression denotes.

This is the question the code generator asks before rewriting a module. Answering it here,
with the index the checks use (decorators resolved through imports and module-level aliases),
means the generator and the checker cannot disagree about what is durable.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from dbos_lint.analysis.parsed_module import Kind, ParsedModule, qualify
from dbos_lint.analysis.scopes import Bind, Scope
from dbos_lint.catalogue import names as n
from dbos_lint.catalogue.settings import Settings

_DECORATORS = {
    Kind.WORKFLOW: n.WORKFLOW_DECORATORS,
    Kind.STEP: n.STEP_DECORATORS,
    Kind.TRANSACTION: n.TRANSACTION_DECORATORS,
}
_MAX_ALIASES = 10


@dataclass(frozen=True)
class DurableFunction:
    """A function the runtime makes durable.

    ``kind`` is ``"workflow"``, ``"step"`` or ``"transaction"``; ``decorator`` the position in
    the function's decorator list of the dbos decorator that makes it so; ``call`` the call that
    built that decorator (``DBOS.step(name="x")``), written on the decorator itself or in a
    module-level alias (``retrying = DBOS.step(retries_allowed=True)``), or None for a bare
    ``@DBOS.step``."""

    kind: str
    decorator: int
    call: cst.Call | None


class ModuleDeclarations:
    """The dbos declarations of one parsed module (nothing is imported or run)."""

    def __init__(self, module: cst.Module) -> None:
        self._parsed = ParsedModule(module, Settings())

    def durable(self, func: cst.FunctionDef) -> DurableFunction | None:
        """What the runtime makes of ``func`` (a ``def`` of this module), or None when it is a
        plain function."""
        index = self._parsed.index
        info = index.functions.get(func)
        if info is None or info.kind is Kind.PLAIN:
            return None
        scope = index.enclosing_scope(info.owner, info.parent)
        wanted = _DECORATORS[info.kind]
        for position, decorator in enumerate(func.decorators):
            expr = decorator.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            if qualify(target, scope) in wanted:
                return DurableFunction(info.kind.value, position, _call_of(expr, scope))
        return None  # unreachable: the kind came from one of these decorators

    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        """The dotted name ``expr`` denotes at module level (``D.sleep`` after ``from dbos
        import DBOS as D``: ``dbos.DBOS.sleep``), through imports and module-level aliases;
        None when it is not a plain dotted path to a known name."""
        return qualify(expr, self._parsed.index.scope)


def _call_of(expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> cst.Call | None:
    """The call that built the decorator ``expr`` stands for, following module-level aliases
    the way ``qualify`` does."""
    if isinstance(expr, cst.Call):
        return expr
    if not isinstance(expr, cst.Name) or depth > _MAX_ALIASES:
        return None
    bindings = scope.lookup(expr.value)
    if bindings is None or len(bindings) != 1:
        return None
    binding = bindings[0]
    if binding.kind is not Bind.ASSIGN or binding.scope.kind != "module" or binding.value is None:
        return None
    return _call_of(binding.value, binding.scope, depth + 1)
