"""mypy plugin: the catalogue's call-based rules, reported by mypy (editor feedback).

Enable with ``[tool.mypy] plugins = ["dbos_lint.mypy_plugin"]``. It adds what types know and the
libcst checker cannot: the callee of a method on a typed object (``rng: random.SystemRandom``,
``client: httpx.Client``) is resolved by mypy, so such calls are matched by their *definition*
name. Codes and messages are the catalogue's, so ``[DBOS111]`` means the same in both tools, and
both ``# dbos: ignore[DBOS111]`` and ``# type: ignore[DBOS111]`` silence it.

Types make some of the checker's value flow free here: a method called on an object mypy knows
to be a client (``self.db: sqlite3.Connection``, ``session: requests.Session``, however it was
obtained) is judged by its class, as are the event loop's ``time()`` and ``run_in_executor()``;
and an argument typed ``set[...]`` makes ``",".join(s)``, ``s.pop()`` and ``enumerate(s)``
set-order findings. The class tables are the checker's (``dbos_lint.objects``).

Limits, by design: only calls directly inside a workflow body (its lambdas and nested functions
included) are checked; transitive helpers, iterating a set, module state, signatures and API
misuse stay with ``dbos-compile check``, which sees the whole project. Unlike the checker, the
plugin also reports a client's method when the client was made in the same workflow (the
construction is reported too). Calls whose callee is ``Any`` (an untyped library, e.g.
``requests`` without ``types-requests``) never reach a plugin hook.
"""

from __future__ import annotations

import hashlib
import linecache
from collections.abc import Callable, Iterator
from typing import Any

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.nodes import (
    Block,
    CallExpr,
    ClassDef,
    Decorator,
    Expression,
    FuncDef,
    FuncItem,
    IfStmt,
    MemberExpr,
    MypyFile,
    RefExpr,
    Statement,
    TryStmt,
    WithStmt,
)
from mypy.plugin import FunctionContext, MethodContext, Plugin, ReportConfigContext
from mypy.types import Instance, Type, get_proper_type

from dbos_lint import names as n
from dbos_lint import objects as o
from dbos_lint.catalogue import RULES
from dbos_lint.suppress import line_suppresses

ERROR_CODES: dict[str, ErrorCode] = {
    code: ErrorCode(code, rule.summary, "DBOS") for code, rule in RULES.items()
}
_DBOS_CLASS = "dbos.DBOS"
_KINDS = {"workflow", "step", "transaction"}


def _catalogue_hash() -> str:
    material = repr(sorted((c, r.message) for c, r in RULES.items()))
    material += repr(sorted(n.EXACT_CALLS.items())) + repr(sorted(n.MODULE_CALLS.items()))
    material += repr(sorted(o.CLIENT_CLASSES.items())) + repr(sorted(o.METHOD_CALLS.items()))
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _decorator_kind(expr: Expression) -> str | None:
    if isinstance(expr, CallExpr):
        expr = expr.callee
    if (
        isinstance(expr, MemberExpr)
        and expr.name in _KINDS
        and isinstance(expr.expr, RefExpr)
        and expr.expr.fullname == _DBOS_CLASS
    ):
        return expr.name
    return None


def _statements(block: list[Statement]) -> Iterator[Statement]:
    """Statements of a body, descending into if/try/with but not into nested defs."""
    for stmt in block:
        yield stmt
        blocks: list[Block] = []
        if isinstance(stmt, IfStmt):
            blocks = [*stmt.body, *([stmt.else_body] if stmt.else_body else [])]
        elif isinstance(stmt, TryStmt):
            blocks = [stmt.body, *stmt.handlers]
            blocks += [b for b in (stmt.else_body, stmt.finally_body) if b is not None]
        elif isinstance(stmt, WithStmt):
            blocks = [stmt.body]
        for inner in blocks:
            yield from _statements(inner.body)


def _kind_of(func: FuncItem, parent: object) -> str | None:
    """A FuncDef does not point at its decorators: find the Decorator wrapping it in the
    parent container (module, class body or enclosing function)."""
    if not isinstance(func, FuncDef) or not func.is_decorated:
        return None
    if isinstance(parent, MypyFile):
        body: list[Statement] = parent.defs
    elif isinstance(parent, FuncItem):
        body = parent.body.body
    else:
        defn = getattr(parent, "defn", None)
        body = defn.defs.body if isinstance(defn, ClassDef) else []
    for stmt in _statements(body):
        if isinstance(stmt, Decorator) and stmt.func is func:
            for decorator in stmt.original_decorators:
                kind = _decorator_kind(decorator)
                if kind is not None:
                    return kind
    return None


def _enclosing_workflow(checker: TypeChecker) -> bool:
    """Innermost dbos-decorated function decides: a step/transaction exempts the call."""
    stack = checker.scope.stack
    for i in range(len(stack) - 1, 0, -1):
        item = stack[i]
        if isinstance(item, FuncItem):
            kind = _kind_of(item, stack[i - 1])
            if kind is not None:
                return kind == "workflow"
    return False


def _report(ctx: FunctionContext | MethodContext, code: str, public_name: str) -> None:
    api = ctx.api
    if not isinstance(api, TypeChecker) or not _enclosing_workflow(api):
        return
    line = linecache.getline(api.path, ctx.context.line)
    if line_suppresses(line, code):
        return
    message = RULES[code].format(public_name.removeprefix("builtins."))
    api.fail(message, ctx.context, code=ERROR_CODES[code])


def _callback(code: str, public_name: str) -> Callable[[Any], Type]:
    def hook(ctx: FunctionContext | MethodContext) -> Type:
        nargs = len([a for group in ctx.args for a in group])
        found = n.classify_call(public_name, nargs=nargs, allow_module_prefix=True)
        if public_name in n.ACCESSES:
            found = code
        if found is not None:
            _report(ctx, found, public_name)
        return ctx.default_return_type

    return hook


def _fixed(code: str, public_name: str) -> Callable[[Any], Type]:
    """A call that breaks replay whatever its arguments (a client's method)."""

    def hook(ctx: FunctionContext | MethodContext) -> Type:
        _report(ctx, code, public_name)
        return ctx.default_return_type

    return hook


_SETS = frozenset({"builtins.set", "builtins.frozenset"})
#: Calls whose first argument's order they expose: ``",".join(s)``, ``enumerate(s)``.
_ORDER_OF_ARGUMENT = {
    "builtins.str.join": "joining a set",
    "builtins.enumerate": "`enumerate(...)` of a set",
    "builtins.zip": "`zip(...)` of a set",
}


def _is_set(typ: Type) -> bool:
    proper = get_proper_type(typ)
    return isinstance(proper, Instance) and any(b.fullname in _SETS for b in proper.type.mro)


def _set_order(what: str) -> Callable[[Any], Type]:
    def hook(ctx: FunctionContext | MethodContext) -> Type:
        if ctx.arg_types and ctx.arg_types[0] and _is_set(ctx.arg_types[0][0]):
            _report(ctx, n.SET_ORDER, what)
        return ctx.default_return_type

    return hook


def _set_pop(ctx: MethodContext) -> Type:
    if not any(ctx.args):
        _report(ctx, n.SET_ORDER, "`set.pop()` on a set")
    return ctx.default_return_type


def _method_of_object(fullname: str) -> Callable[[Any], Type] | None:
    """A method judged by the class of the object it is called on."""
    cls, _, method = fullname.rpartition(".")
    public_cls = o.public_class(n.MYPY_ALIASES.get(cls, cls))
    code = o.method_code(public_cls, method, unseeded=False, shared=False)
    return _fixed(code, f"{public_cls}.{method}") if code is not None else None


class DbosLintPlugin(Plugin):
    def _hook(self, fullname: str, *, is_method: bool) -> Callable[[Any], Type] | None:
        public = n.MYPY_ALIASES.get(fullname, fullname)
        if public in n.ACCESSES:  # os.environ.get(...) arrives as a method of os._Environ
            return _callback(n.ACCESSES[public], public)
        if public in _ORDER_OF_ARGUMENT:
            return _set_order(_ORDER_OF_ARGUMENT[public])
        if public == "builtins.set.pop":
            return _set_pop
        if is_method and public not in n.EXACT_CALLS:
            return _method_of_object(public)
        # Methods only match exactly (``requests.models.Response.json`` is not I/O); functions
        # and class instantiations may match a whole module (``requests.api.get``).
        exact = public in n.EXACT_CALLS or public in n.MIN_ARGS_TO_BE_SAFE
        code = n.classify_call(public, nargs=99, allow_module_prefix=not is_method)
        if public in n.MIN_ARGS_TO_BE_SAFE:
            code = n.MIN_ARGS_CODES[public]
        if code is None or (is_method and not exact):
            return None
        return _callback(code, public)

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        return self._hook(fullname, is_method=False)

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        return self._hook(fullname, is_method=True)

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        return {"dbos_lint_catalogue": _catalogue_hash()}


def plugin(version: str) -> type[Plugin]:
    return DbosLintPlugin
