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
set-order findings. The class tables are the checker's (``dbos_lint.catalogue.objects``).

Signatures are judged on resolved types: applying ``@DBOS.workflow()`` (or ``step``,
``transaction``) reaches a hook of ours (the decorator's return type is renamed so that its
application is a named call), where the undecorated signature is at hand; a parameter whose
type is a socket, a lock, a callable or a client is reported however it was spelled (a type
alias, a ``NewType``). A ``random.Random`` that is not a local of the workflow (a module-level
generator, an attribute, an element of a container) is shared state: its draws are reported.

Every hook is guarded: the plugin reads a few mypy internals (the checker's scope stack, the
decorators of a ``FuncDef``); where one is missing in some mypy release, the hook reports
nothing rather than crash mypy.

Applying ``@DBOS.workflow()`` is also where its body's ``except`` clauses are judged (DBOS704:
one catching ``BaseException``, or a bare one, with no ``raise`` that re-raises).

Limits, by design: only calls directly inside a workflow body (its lambdas and nested functions
included) are checked, and the ``except`` clauses of the body itself; transitive helpers,
iterating a set, module state and API misuse stay with ``dbos-compile check``, which sees the
whole project. Unlike the checker, the plugin also reports a client's method when the client
was made in the same workflow (the construction is reported too). Calls whose callee is
``Any`` (an untyped library, e.g. ``requests`` without ``types-requests``) never reach a
plugin hook.
"""

from __future__ import annotations

import functools
import hashlib
import linecache
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from mypy.errorcodes import ErrorCode
from mypy.nodes import (
    FUNC_NO_INFO,
    LDEF,
    Block,
    CallExpr,
    ClassDef,
    Context,
    Decorator,
    Expression,
    ForStmt,
    FuncDef,
    FuncItem,
    IfStmt,
    MemberExpr,
    MypyFile,
    NameExpr,
    RaiseStmt,
    RefExpr,
    Statement,
    TryStmt,
    TupleExpr,
    WhileStmt,
    WithStmt,
)
from mypy.plugin import (
    CheckerPluginInterface,
    FunctionContext,
    MethodContext,
    Plugin,
    ReportConfigContext,
)
from mypy.types import CallableType, Instance, Type, get_proper_type

from dbos_lint import mypy_signatures as sig
from dbos_lint.analysis.suppressions import line_suppresses
from dbos_lint.catalogue import RULES, codes
from dbos_lint.catalogue import names as n
from dbos_lint.catalogue import objects as o
from dbos_lint.catalogue.dbos70x_api_misuse import SWALLOWING_TYPES

ERROR_CODES: dict[str, ErrorCode] = {
    code: ErrorCode(code, rule.summary, "DBOS") for code, rule in RULES.items()
}
#: Where ``DBOS`` is defined (the installed package) and where it is exported (stubs, docs).
_DBOS_CLASSES = frozenset({"dbos._facade.dbos.DBOS", "dbos.DBOS"})
_KINDS = {"workflow", "step", "transaction"}
#: Applying a decorator returned by ``DBOS.<kind>(...)`` is a call of a callable renamed to this.
_APPLY = "dbos_lint.mypy_plugin:apply-"

C = TypeVar("C", bound=Callable[..., Type])


def _guarded(hook: C) -> C:
    """A hook that never takes mypy down: an internal missing from this mypy release (or a
    node shaped unlike the ones we know) means no diagnostic, not a crash."""

    @functools.wraps(hook)
    def safe(ctx: Any) -> Type:
        try:
            return hook(ctx)
        except Exception:  # noqa: BLE001 - degrade to silence, never crash the type check
            return ctx.default_return_type  # type: ignore[no-any-return]

    return safe  # type: ignore[return-value]


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
        and expr.expr.fullname in _DBOS_CLASSES
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


def _enclosing_workflow(checker: Any) -> bool:
    """Innermost dbos-decorated function decides: a step/transaction exempts the call.

    ``scope.stack`` is the checker's own (not the plugin interface); without it, an
    AttributeError here makes the guarded hook report nothing."""
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
    if not _enclosing_workflow(api):
        return
    _fail(api, ctx.context, code, public_name.removeprefix("builtins."))


def _fail(api: CheckerPluginInterface, context: Any, code: str, name: str) -> None:
    line = linecache.getline(api.path, context.line)
    if line_suppresses(line, code):
        return
    api.fail(RULES[code].format(name), context, code=ERROR_CODES[code])


def _callback(code: str, public_name: str) -> Callable[[Any], Type]:
    @_guarded
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

    @_guarded
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
    @_guarded
    def hook(ctx: FunctionContext | MethodContext) -> Type:
        if ctx.arg_types and ctx.arg_types[0] and _is_set(ctx.arg_types[0][0]):
            _report(ctx, codes.SET_ORDER, what)
        return ctx.default_return_type

    return hook


@_guarded
def _set_pop(ctx: MethodContext) -> Type:
    if not any(ctx.args):
        _report(ctx, codes.SET_ORDER, "`set.pop()` on a set")
    return ctx.default_return_type


def _method_of_object(fullname: str) -> Callable[[Any], Type] | None:
    """A method judged by the class of the object it is called on."""
    cls, _, method = fullname.rpartition(".")
    if method.startswith("__"):
        return None  # ``async with client:`` is the client's construction, reported there
    public_cls = o.public_class(n.MYPY_ALIASES.get(cls, cls))
    if public_cls in n.MIN_ARGS_TO_BE_SAFE:
        code = o.method_code(public_cls, method, unseeded=False, shared=True)
        return _shared_generator(code, f"{public_cls}.{method}") if code is not None else None
    code = o.method_code(public_cls, method, unseeded=False, shared=False)
    return _fixed(code, f"{public_cls}.{method}") if code is not None else None


def _shared_generator(code: str, public_name: str) -> Callable[[Any], Type]:
    """A draw from a seeded generator class (``random.Random``): deterministic only when the
    generator is the workflow's own (a local or a parameter, recorded with its inputs); one
    kept at module level, on an object or in a container is shared with everything else the
    process runs. One built in the same expression is judged where it is built."""

    @_guarded
    def hook(ctx: MethodContext) -> Type:
        callee = ctx.context.callee if isinstance(ctx.context, CallExpr) else None
        receiver = callee.expr if isinstance(callee, MemberExpr) else None
        local = isinstance(receiver, NameExpr) and receiver.kind == LDEF
        if receiver is not None and not local and not isinstance(receiver, CallExpr):
            _report(ctx, code, public_name)
        return ctx.default_return_type

    return hook


def _renamed_decorator(kind: str) -> Callable[[MethodContext], Type]:
    """``DBOS.workflow(...)`` returns the decorator; give its type a name of ours, so that
    applying it reaches :func:`_check_signature` with the undecorated function's type."""

    @_guarded
    def hook(ctx: MethodContext) -> Type:
        returned = get_proper_type(ctx.default_return_type)
        if isinstance(returned, CallableType):
            return returned.copy_modified(name=_APPLY + kind)
        return ctx.default_return_type

    return hook


@_guarded
def _check_signature(ctx: FunctionContext) -> Type:
    """Parameters and return type of a decorated workflow, step or transaction that cannot be
    checkpointed, judged on their resolved types."""
    api = ctx.api
    decorator = ctx.context
    if not isinstance(decorator, Decorator):
        return ctx.default_return_type
    func = decorator.func
    typ = get_proper_type(ctx.arg_types[0][0]) if ctx.arg_types and ctx.arg_types[0] else None
    if not isinstance(typ, CallableType):
        return ctx.default_return_type
    spelled = func.unanalyzed_type if isinstance(func.unanalyzed_type, CallableType) else None
    skip = 1 if func.info is not FUNC_NO_INFO and not func.is_static else 0
    for i, arg_type in enumerate(typ.arg_types):
        if i < skip or i >= len(func.arguments):
            continue
        bad = sig.unrecordable(arg_type)
        if bad is not None:
            written = sig.written(spelled.arg_types[i]) if spelled is not None else None
            _fail(api, func.arguments[i], codes.PARAM_TYPE, sig.shown(bad, written))
    returned = typ.ret_type
    if func.is_coroutine:
        proper = get_proper_type(returned)
        if isinstance(proper, Instance) and proper.args:
            returned = proper.args[-1]  # Coroutine[Any, Any, R]: R is what is recorded
    bad = sig.unrecordable(returned)
    if bad is not None:
        written = sig.written(spelled.ret_type) if spelled is not None else None
        _fail(api, func, codes.RETURN_TYPE, sig.shown(bad, written))
    return ctx.default_return_type


@_guarded
def _check_workflow(ctx: FunctionContext) -> Type:
    """A workflow's signature, and the ``except`` clauses of its body that swallow the
    runtime's control flow (DBOS704)."""
    _check_signature(ctx)
    decorator = ctx.context
    if isinstance(decorator, Decorator):
        for stmt in _nested_statements(decorator.func.body.body):
            if isinstance(stmt, TryStmt):
                _check_handlers(ctx.api, stmt)
    return ctx.default_return_type


def _nested_statements(block: list[Statement]) -> Iterator[Statement]:
    """Every statement of a body, loops and handlers included, not those of nested defs."""
    for stmt in block:
        yield stmt
        blocks: list[Block | None] = []
        if isinstance(stmt, IfStmt):
            blocks = [*stmt.body, stmt.else_body]
        elif isinstance(stmt, TryStmt):
            blocks = [stmt.body, *stmt.handlers, stmt.else_body, stmt.finally_body]
        elif isinstance(stmt, (WhileStmt, ForStmt)):
            blocks = [stmt.body, stmt.else_body]
        elif isinstance(stmt, WithStmt):
            blocks = [stmt.body]
        for inner in blocks:
            if inner is not None:
                yield from _nested_statements(inner.body)


def _check_handlers(api: CheckerPluginInterface, stmt: TryStmt) -> None:
    for caught, bound, handler in zip(stmt.types, stmt.vars, stmt.handlers, strict=True):
        items = caught.items if isinstance(caught, TupleExpr) else [caught]
        if caught is not None and not any(
            isinstance(t, RefExpr) and t.fullname in SWALLOWING_TYPES for t in items
        ):
            continue
        name = bound.name if bound is not None else None
        if any(
            isinstance(s, RaiseStmt)
            and (s.expr is None or (isinstance(s.expr, NameExpr) and s.expr.name == name))
            for s in _nested_statements(handler.body)
        ):
            continue
        line = _except_line(api.path, handler.line)
        shown = "except:" if caught is None else "except BaseException"
        _fail(api, Context(line=line, column=0), codes.SWALLOWED_UNWIND, shown)


def _except_line(path: str, handler_line: int) -> int:
    """mypy places a handler at its first statement: the ``except`` keyword's line is that
    one (``except: pass``) or the nearest above it that starts with the keyword."""
    for number in range(handler_line, max(handler_line - 20, 0), -1):
        if linecache.getline(path, number).lstrip().startswith("except"):
            return number
    return handler_line


class DbosLintPlugin(Plugin):
    def _hook(self, fullname: str, *, is_method: bool) -> Callable[[Any], Type] | None:
        public = o.public_class(n.MYPY_ALIASES.get(fullname, fullname))
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
        if fullname == _APPLY + "workflow":
            return _check_workflow
        if fullname.startswith(_APPLY):
            return _check_signature
        return self._hook(fullname, is_method=False)

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        cls, _, kind = fullname.rpartition(".")
        if kind in _KINDS and cls in _DBOS_CLASSES:
            return _renamed_decorator(kind)
        return self._hook(fullname, is_method=True)

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        return {"dbos_lint_catalogue": _catalogue_hash()}


def plugin(version: str) -> type[Plugin]:
    return DbosLintPlugin
