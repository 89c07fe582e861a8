"""The calls a body makes, judged by what the callee evaluates to.

In a workflow: an outside name is looked up in the deny-list (``catalogue.names``: the
families' ``calls`` and ``modules``, so DBOS101-302, DBOS401's calls, DBOS502 and DBOS901 are
detected here), a method of an outside object is judged by its class (``catalogue.objects``:
clients, the running loop, seeded generators), set order and shared containers by their
families (``dbos501_set_order``, ``dbos402_module_state``), and a project function, method,
constructor or ``__call__`` is followed. In a step or transaction: API misuse only
(``dbos70x_api_misuse``).
"""

from __future__ import annotations

import libcst as cst

from dbos_lint.analysis import classes
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
)
from dbos_lint.catalogue import codes
from dbos_lint.catalogue import names as n
from dbos_lint.catalogue import objects as o
from dbos_lint.catalogue.dbos50x_order_and_identity import FIRST_ELEMENT, ORDER_FREE
from dbos_lint.checks.dbos70x_api_misuse import ApiMisuseRules
from dbos_lint.checks.dbos402_module_state import ModuleStateRules
from dbos_lint.checks.dbos501_set_order import SetOrderRules

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


class CallRules(SetOrderRules, ModuleStateRules, ApiMisuseRules):
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
        if name in ORDER_FREE:
            self._order_free_argument(node)
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
        if name in FIRST_ELEMENT:
            self._first_element(node, frame)
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
        self._order_of_method(node, method, cls, receiver, frame)
        self._shared_container_change(node, method, cls, receiver)
