"""Rules on the calls a body makes: judged by what the callee evaluates to.

An outside name is looked up in the deny-list, a method of an outside object judged by its
class (``objects``), a project function, method, constructor or ``__call__`` followed (in a
workflow) or checked for being a workflow (in a step: API misuse).
"""

from __future__ import annotations

import libcst as cst

from dbos_lint.analysis import classes
from dbos_lint.analysis.parsed_module import Kind
from dbos_lint.analysis.syntax import dotted
from dbos_lint.analysis.values import (
    Bound,
    Either,
    Ext,
    Frame,
    Method,
    ProjClass,
    ProjFunc,
    ProjInst,
    Value,
    describe,
)
from dbos_lint.catalogue import codes
from dbos_lint.catalogue import names as n
from dbos_lint.catalogue import objects as o
from dbos_lint.catalogue.dbos40x_shared_state import CONTAINERS, MUTATING_METHODS
from dbos_lint.catalogue.dbos50x_order_and_identity import FIRST_ELEMENT, ORDER_FREE
from dbos_lint.catalogue.dbos70x_api_misuse import (
    ENQUEUE_METHODS,
    QUEUE_CLASSES,
    RECV_CALLS,
    START_WORKFLOW_CALLS,
)
from dbos_lint.checks.reads import ReadRules

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


class CallRules(ReadRules):
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
        if name in ORDER_FREE and len(node.args) == 1:
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
        if name in FIRST_ELEMENT and positional:
            value = self._in_set_order(positional[0], frame)
            if value is not None:
                self._report(node, codes.SET_ORDER, f"taking `next(...)` of {describe(value)}")
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
            code = codes.CONFIGURED
        if code is not None and not settings.is_allowed(name):
            self._report(node, code, name, origin=obj.origin)
            return
        receiver = node.func.value if isinstance(node.func, cst.Attribute) else node.func
        if method.name == "join" and cls == "builtins.str" and node.args:
            joined = self._in_set_order(node.args[0].value, frame)
            if joined is not None:
                self._report(
                    node, codes.SET_ORDER, f"joining {self._what(node.args[0].value, joined)}"
                )
        elif method.name == "pop" and cls == "builtins.set" and obj.unordered and not node.args:
            self._report(node, codes.SET_ORDER, f"`{dotted(receiver) or 'set'}.pop()` on a set")
        if obj.shared and method.name in MUTATING_METHODS and cls in CONTAINERS:
            self._report(node, codes.MODULE_STATE, dotted(receiver) or cls)

    def _misuse(self, node: cst.Call, func: Value) -> None:
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
