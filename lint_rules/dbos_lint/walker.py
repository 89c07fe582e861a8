"""The body rules: one walk over a workflow body (or a helper it reaches, or a step body).

In a workflow (and the plain code it reaches) every call is judged by what its callee
evaluates to: an outside name against the deny-list, a method of an outside object by its
class, a project function, method, constructor or property by following it. Reads of host
state, set order and changes to module-level state are judged on values too. In a step or a
transaction only API misuse is checked: steps are the sanctioned place for nondeterminism.

The walk is a loop over an explicit stack of (node, frame) pairs, not a libcst visitor: it
reads the fields that can hold code (``syntax.read_children``) and switches scope at lambdas,
comprehensions and nested functions. That keeps it a small fraction of the parse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

import libcst as cst

from dbos_lint import classes
from dbos_lint import names as n
from dbos_lint import objects as o
from dbos_lint.collect import FunctionInfo, Kind
from dbos_lint.evaluate import Evaluator
from dbos_lint.model import Settings
from dbos_lint.module import ModuleChecker
from dbos_lint.project import Project
from dbos_lint.scopes import COMPREHENSIONS, Bind, Binding
from dbos_lint.syntax import all_params, dotted, read_children_reversed
from dbos_lint.values import (
    Bound,
    Either,
    Ext,
    Frame,
    Inst,
    Method,
    ProjClass,
    ProjFunc,
    ProjInst,
    ProjModule,
    Value,
    describe,
)

#: Outside functions that call the functions they are given (``map(helper, xs)``).
CALLS_ITS_ARGUMENTS = frozenset(
    {
        "builtins.map",
        "builtins.filter",
        "builtins.sorted",
        "builtins.min",
        "builtins.max",
        "functools.reduce",
        "functools.partial",
        "itertools.starmap",
    }
)

Receiver = ProjInst | ProjClass | None

#: Attribute names whose read may be host state or the transaction session.
_ACCESS_LEAVES = frozenset(name.rsplit(".", 1)[-1] for name in n.ACCESSES) | {"sql_session"}


@dataclass(frozen=True)
class Walk:
    """Where a body walk stands: which root it serves, the function walked, the module it lives
    in, the helper chain that got here (``crossed`` once the chain left the root's file) and
    what ``self`` is."""

    kind: Kind
    root: FunctionInfo
    current: FunctionInfo
    module: ModuleChecker
    chain: tuple[str, ...] = ()
    crossed: bool = False
    receiver: Receiver = None


class Reporter(Protocol):
    evaluator: Evaluator
    settings: Settings

    def report(
        self,
        module: ModuleChecker,
        node: cst.CSTNode,
        code: str,
        name: str,
        walk: Walk | None,
        origin: cst.CSTNode | None = None,
    ) -> None: ...


Item = tuple[cst.CSTNode, Frame]


class _SetFrame:
    """A marker on the walk's stack: continue in ``frame``."""

    __slots__ = ("frame",)

    def __init__(self, frame: Frame) -> None:
        self.frame = frame


class BodyWalker:
    def __init__(self, reporter: Reporter, walk: Walk) -> None:
        self.r = reporter
        self.ev = reporter.evaluator
        self.walk = walk
        self.module = walk.module
        self.workflow = walk.kind is Kind.WORKFLOW
        #: Project functions this body calls that must be walked too (with their receiver).
        self.helpers: list[tuple[FunctionInfo, Receiver]] = []
        self.first_yield: cst.Yield | None = None
        #: Comprehensions consumed by an order-free builtin, and their ``for`` clauses.
        self._order_free: set[cst.CSTNode] = set()
        self._order_free_clauses: set[cst.CSTNode] = set()
        self._root_scope = self.module.index.function_scope(walk.current)

    def run(self) -> None:
        """Depth-first, in source order. The stack holds nodes, and a :class:`_SetFrame`
        where the frame changes (entering or leaving a scope), so that the children of an
        ordinary node are pushed as they are, without a (node, frame) pair each."""
        frame = Frame(self.module, self._root_scope, self.walk.receiver)
        stack: list[cst.CSTNode | _SetFrame] = list(reversed(self.walk.current.node.body.body))
        handlers = _HANDLERS
        while stack:
            node = stack.pop()
            if isinstance(node, _SetFrame):
                frame = node.frame
                continue
            handler = handlers.get(type(node))
            if handler is not None:
                replaced = handler(self, node, frame)
                if replaced is not None:
                    stack.append(_SetFrame(frame))  # back to this frame afterwards
                    for item, item_frame in reversed(replaced):
                        stack.append(item)
                        stack.append(_SetFrame(item_frame))
                    continue
            stack.extend(read_children_reversed(node))

    def _report(
        self, node: cst.CSTNode, code: str, name: str, origin: cst.CSTNode | None = None
    ) -> None:
        self.r.report(self.module, node, code, name, self.walk, origin)

    def _follow(self, info: FunctionInfo, receiver: Receiver, call: cst.Call | None = None) -> None:
        """Walk a project function next, unless the configuration names it: an
        ``extra-allowed`` helper is trusted, an ``extra-forbidden`` one is reported."""
        dotted = info.index.checker.dotted
        if dotted and call is not None:
            name = f"{dotted}.{info.qualname}"
            if self.r.settings.is_allowed(name):
                return
            if n.matches_name(name, self.r.settings.extra_forbidden):
                self._report(call, n.CONFIGURED, name)
                return
        if info.kind is Kind.PLAIN and info.parent is None:
            self.helpers.append((info, receiver))

    # -- scopes ----------------------------------------------------------------------------------
    def _function(self, node: cst.FunctionDef, frame: Frame) -> list[Item]:
        info = self.module.index.functions.get(node)
        if info is None or info.kind is not Kind.PLAIN:
            return []  # nested workflows, steps and transactions are roots of their own
        inner = Frame(self.module, self.module.index.function_scope(info), frame.receiver)
        items: list[Item] = [(d.decorator, frame) for d in node.decorators]
        items += [(p.default, frame) for p in all_params(node) if p.default is not None]
        return items + [(s, inner) for s in node.body.body]

    def _class(self, node: cst.ClassDef, frame: Frame) -> list[Item]:
        info = self.module.index.classes.get(node)
        items: list[Item] = [(d.decorator, frame) for d in node.decorators]
        items += [(a.value, frame) for a in (*node.bases, *node.keywords)]
        if info is None:
            return items
        inner = Frame(self.module, info.scope, frame.receiver)
        return items + [(s, inner) for s in node.body.body]

    def _lambda(self, node: cst.Lambda, frame: Frame) -> list[Item]:
        inner = frame.at(self.module.index.nested_scope(node, frame.scope))
        items: list[Item] = [(p.default, frame) for p in all_params(node) if p.default is not None]
        return [*items, (node.body, inner)]

    def _comprehension(self, node: cst.BaseComp, frame: Frame) -> list[Item]:
        """The first ``in`` is evaluated outside the comprehension, the rest inside it.

        A set comprehension, or a comprehension consumed whole by an order-free builtin
        (``any(f(t) for t in tags)``), may iterate a set: the result does not show the order."""
        inner = frame.at(self.module.index.nested_scope(node, frame.scope))
        first = node.for_in
        if isinstance(node, cst.SetComp) or node in self._order_free:
            clause: cst.CompFor | None = first
            while clause is not None:
                self._order_free_clauses.add(clause)
                clause = clause.inner_for_in
        else:
            self._iteration(first.iter, frame)
        items: list[Item] = [(first.iter, frame)]
        items += [(c, inner) for c in (*first.ifs, first.inner_for_in) if c is not None]
        if isinstance(node, cst.DictComp):
            items += [(node.key, inner), (node.value, inner)]
        elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            items.append((node.elt, inner))
        return items

    # -- calls -----------------------------------------------------------------------------------
    def _call(self, node: cst.Call, frame: Frame) -> None:
        func = self.ev.value(node.func, frame)
        if self.workflow:
            self._determinism(node, func, frame)
        else:
            self._misuse(node, func)

    def _determinism(self, node: cst.Call, func: Value, frame: Frame) -> None:
        if isinstance(func, Either):
            for option in func.options:
                self._determinism(node, option, frame)
        elif isinstance(func, Ext):
            self._outside_call(node, func.name, frame)
        elif isinstance(func, Method):
            self._method_call(node, func, frame)
        elif isinstance(func, ProjFunc):
            self._follow(func.func, None, node)
        elif isinstance(func, Bound):
            self._follow(func.func, func.receiver, node)
        elif isinstance(func, ProjClass):
            init = classes.find(self.ev, func.cls, "__init__")
            if init is not None and init.method is not None:
                self._follow(init.method, ProjInst(func.cls), node)
        elif isinstance(func, ProjInst):
            call = classes.find(self.ev, func.cls, "__call__")
            if call is not None and call.method is not None:
                self._follow(call.method, func, node)

    def _outside_call(self, node: cst.Call, name: str, frame: Frame) -> None:
        if name in o.ORDER_FREE and len(node.args) == 1:
            argument = node.args[0].value
            if isinstance(argument, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
                self._order_free.add(argument)
        settings = self.r.settings
        code = n.classify_call(
            name,
            nargs=len(node.args),
            allow_module_prefix=True,
            extra_forbidden=settings.extra_forbidden,
            extra_allowed=settings.extra_allowed,
        )
        if code is not None:
            self._report(node, code, name)
            return
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if name in o.FIRST_ELEMENT and positional:
            value = self._in_set_order(positional[0], frame)
            if value is not None:
                self._report(node, n.SET_ORDER, f"taking `next(...)` of {describe(value)}")
        if name in CALLS_ITS_ARGUMENTS:
            for arg in node.args:
                passed = self.ev.value(arg.value, frame)
                if isinstance(passed, ProjFunc):
                    self._follow(passed.func, None)
                elif isinstance(passed, Bound):
                    self._follow(passed.func, passed.receiver)

    def _method_call(self, node: cst.Call, method: Method, frame: Frame) -> None:
        obj = method.obj
        cls = o.public_class(obj.cls)
        name = f"{cls}.{method.name}"
        settings = self.r.settings
        code = o.method_code(cls, method.name, unseeded=obj.unseeded, shared=obj.shared)
        if n.matches_name(name, settings.extra_forbidden):
            code = n.CONFIGURED
        if code is not None and not settings.is_allowed(name):
            self._report(node, code, name, origin=obj.origin)
            return
        receiver = node.func.value if isinstance(node.func, cst.Attribute) else node.func
        if method.name == "join" and cls == "builtins.str" and node.args:
            joined = self._in_set_order(node.args[0].value, frame)
            if joined is not None:
                self._report(node, n.SET_ORDER, f"joining {self._what(node.args[0].value, joined)}")
        elif method.name == "pop" and cls == "builtins.set" and obj.unordered and not node.args:
            self._report(node, n.SET_ORDER, f"`{dotted(receiver) or 'set'}.pop()` on a set")
        if obj.shared and method.name in o.MUTATING_METHODS and cls in o.CONTAINERS:
            self._report(node, n.MODULE_STATE, dotted(receiver) or cls)

    def _misuse(self, node: cst.Call, func: Value) -> None:
        if isinstance(func, Either):
            for option in func.options:
                self._misuse(node, option)
        elif isinstance(func, Ext):
            if func.name in n.RECV_CALLS:
                self._report(node, n.RECV_OUTSIDE, dotted(node.func))
            elif func.name in n.START_WORKFLOW_CALLS:
                self._report(node, n.WORKFLOW_IN_STEP, dotted(node.func))
        elif isinstance(func, Method):
            if func.obj.cls in n.QUEUE_CLASSES and func.name in n.ENQUEUE_METHODS:
                self._report(node, n.WORKFLOW_IN_STEP, dotted(node.func))
        elif isinstance(func, (ProjFunc, Bound)) and func.func.kind is Kind.WORKFLOW:
            self._report(node, n.WORKFLOW_IN_STEP, dotted(node.func))

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
        if isinstance(value, Ext) and (
            value.name in n.ACCESSES or value.name in n.SQL_SESSION_NAMES
        ):
            return value.name
        return ""

    def _reported_read(self, node: cst.Name | cst.Attribute, name: str) -> None:
        if name in n.SQL_SESSION_NAMES:
            if self.walk.kind is not Kind.TRANSACTION:
                self._report(node, n.SQL_SESSION, "DBOS.sql_session")
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
                self._report(expr, n.SET_ORDER, f"iterating {self._what(expr, value)}")

    def _subscript(self, node: cst.Subscript, frame: Frame) -> None:
        if self.workflow:
            value = self._in_set_order(node.value, frame)
            if value is not None:
                self._report(node, n.SET_ORDER, f"indexing {self._what(node.value, value)}")

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
                self._report(node.value, n.SET_ORDER, f"unpacking {self._what(node.value, value)}")
        for target in node.targets:
            self._mutation(target.target, frame)

    def _mutation(self, target: cst.CSTNode, frame: Frame) -> None:
        """Changing state that outlives the workflow: a ``global``, a module-level container or
        object, a class attribute, an attribute of a project module."""
        if not self.workflow:
            return
        if isinstance(target, cst.Name):
            if target.value in frame.scope.declared_global:
                self._report(target, n.MODULE_STATE, target.value)
        elif isinstance(target, (cst.Attribute, cst.Subscript)):
            base = self.ev.value(target.value, frame)
            if _outlives_workflows(base):
                shown = dotted(target) or dotted(target.value) or "module state"
                self._report(target, n.MODULE_STATE, shown)
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


def _on_call(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.Call", node)
    w._call(node, frame)
    return None


def _on_read(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.Name | cst.Attribute", node)
    w._access(node, frame)
    return None


def _on_for(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.For | cst.CompFor", node)
    if node not in w._order_free_clauses:
        w._iteration(node.iter, frame)
    if isinstance(node, cst.For):
        w._mutation(node.target, frame)
    return None


def _on_subscript(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.Subscript", node)
    w._subscript(node, frame)
    return None


def _on_assign(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.Assign", node)
    w._assign(node, frame)
    return None


def _on_target(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.AugAssign | cst.AnnAssign | cst.Del", node)
    if not isinstance(node, cst.AnnAssign) or node.value is not None:
        w._mutation(node.target, frame)
    return None


def _on_yield(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.Yield", node)
    w._yield(node, frame)
    return None


def _on_function(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.FunctionDef", node)
    return w._function(node, frame)


def _on_class(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.ClassDef", node)
    return w._class(node, frame)


def _on_lambda(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.Lambda", node)
    return w._lambda(node, frame)


def _on_comprehension(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.BaseComp", node)
    return w._comprehension(node, frame)


_Handler = Callable[[BodyWalker, cst.CSTNode, Frame], "list[Item] | None"]
_HANDLERS: dict[type[cst.CSTNode], _Handler] = {
    cst.Call: _on_call,
    cst.Name: _on_read,
    cst.Attribute: _on_read,
    cst.For: _on_for,
    cst.CompFor: _on_for,
    cst.Subscript: _on_subscript,
    cst.Assign: _on_assign,
    cst.AugAssign: _on_target,
    cst.AnnAssign: _on_target,
    cst.Del: _on_target,
    cst.Yield: _on_yield,
    cst.FunctionDef: _on_function,
    cst.ClassDef: _on_class,
    cst.Lambda: _on_lambda,
    **{comp: _on_comprehension for comp in COMPREHENSIONS},
}
