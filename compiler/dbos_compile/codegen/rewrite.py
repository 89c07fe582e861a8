"""The line-preserving rewrite of workflow bodies: each durable boundary becomes an explicit
call into the checkpoint core (``_dbos_rt``, the runtime's ``dbos._compiled``).

* a call of the module's own step, transaction or workflow ``f(a, b=c)`` becomes
  ``_dbos_step_f((a,), {"b": c})``: ``_dbos_step_f`` (``_dbos_tx_``, ``_dbos_wf_``) is bound by
  ``_dbos_rt.located`` when ``f`` is defined to the core's entry point (``run_step``,
  ``run_transaction``, ``call_workflow``) with ``f``'s registration, so the call goes straight
  to the checkpoint core with no wrapper and no lookup;
* a call spread over several lines, or ``self.m(...)`` on a decorated method of the enclosing
  class (a subclass may override it), becomes ``_dbos_rt.step(f, a, b=c)`` (``step_async``,
  ``transaction``, ``child``, ``child_async``), which keeps the arguments where they were;
* ``@DBOS.workflow()`` (and step, transaction) becomes ``@_dbos_rt.located(DBOS.workflow())``,
  which points the function's code at the user's file before it is registered;
* ``DBOS.sleep``, ``send``, ``recv``, ``set_event``, ``get_event``, ``write_stream``,
  ``close_stream`` and ``start_workflow`` become ``_dbos_rt.<the same>``; ``q.enqueue(f, a)``
  on a module-level ``q = Queue(...)`` becomes ``_dbos_rt.enqueue(q, f, a)``.

Only expressions change, inside their own lines (libcst keeps every newline and comment), so
every line of the user's code stays on its line. Calls already of the form ``_dbos_rt.x(...)``
are left alone, so rewriting a generated module changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from .analysis import Durable, ModuleFacts, locally_bound, queue_of

RUNTIME_ALIAS = "_dbos_rt"
_SPACE = cst.SimpleWhitespace(" ")
_COMMA = cst.Comma(whitespace_after=_SPACE)
_OPERATIONS = {
    "sleep": "sleep",
    "sleep_async": "sleep_async",
    "send": "send",
    "recv": "recv",
    "set_event": "set_event",
    "get_event": "get_event",
    "write_stream": "write_stream",
    "close_stream": "close_stream",
    "start_workflow": "start_workflow",
}
_CALLS = {
    ("step", False): "step",
    ("step", True): "step_async",
    ("transaction", False): "transaction",
    ("workflow", False): "child",
    ("workflow", True): "child_async",
}


@dataclass
class Rewritten:
    """How many calls of each kind a module's workflows now make explicitly."""

    calls: dict[str, int] = field(default_factory=dict)


def _runtime(name: str) -> cst.Attribute:
    return cst.Attribute(cst.Name(RUNTIME_ALIAS), cst.Name(name))


class _WorkflowBodies(cst.CSTTransformer):
    def __init__(self, facts: ModuleFacts, report: Rewritten, shapes: dict[str, str]) -> None:
        super().__init__()
        self._shapes = shapes
        self._facts = facts
        self._report = report
        self._classes: list[str] = []
        self._depth = 0  # function nesting
        self._workflows: list[set[str]] = []  # locally bound names of enclosing workflows

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node.name.value if self._depth == 0 else "")

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self._classes.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._depth == 0 and len(self._classes) <= 1:
            durable = self._facts.kind_of(node)
            if durable is not None and durable.kind == "workflow":
                self._workflows.append(locally_bound(node))
        self._depth += 1

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        self._depth -= 1
        if self._depth != 0 or len(self._classes) > 1:
            return updated
        durable = self._facts.kind_of(original)
        if durable is None:
            return updated
        if durable.kind == "workflow":
            self._workflows.pop()
        direct = not self._classes and durable.innermost
        site = durable.site(original.name.value) if direct else None
        qualname = ".".join([*self._classes, original.name.value])
        registered = durable.registered(qualname)
        shape = self._shapes.get(registered) if durable.kind == "workflow" else None
        decorators = list(updated.decorators)
        decorators[durable.decorator] = self._located(decorators[durable.decorator], site, shape)
        return updated.with_changes(decorators=decorators)

    def _located(
        self, decorator: cst.Decorator, site: str | None, shape: str | None
    ) -> cst.Decorator:
        """``@DBOS.step()`` -> ``@_dbos_rt.located(DBOS.step(), "_dbos_step_f")`` (a workflow
        also gets its shape's fingerprint), on the same line; ``decorator`` is the one that
        makes the function durable (``@retrying``, an alias of ``DBOS.step(...)``, too)."""
        values: list[cst.BaseExpression] = [decorator.decorator]
        if site is not None or shape is not None:
            values.append(cst.SimpleString(f'"{site}"') if site is not None else cst.Name("None"))
        if shape is not None:
            values.append(cst.SimpleString(f'"{shape}"'))
        last = len(values) - 1
        args = [cst.Arg(v, comma=_COMMA if i < last else cst.MaybeSentinel.DEFAULT)
                for i, v in enumerate(values)]  # fmt: skip
        return decorator.with_changes(decorator=cst.Call(_runtime("located"), args))

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self._workflows:
            return updated
        callee = updated.func
        target = self._durable_callee(callee)
        if target is not None:
            operation = _CALLS.get((target.kind, target.is_async))
            if operation is None:
                return updated
            if isinstance(callee, cst.Name) and target.innermost and _one_line(updated):
                return self._direct(target.site(callee.value), updated)
            return self._explicit(operation, updated, first=callee)
        if isinstance(callee, cst.Attribute) and self._facts.is_dbos(callee.value):
            operation = _OPERATIONS.get(callee.attr.value)
            if operation is not None:
                return self._explicit(operation, updated, first=None)
        queue = queue_of(callee, self._facts, self._workflows[-1])
        if queue is not None and isinstance(callee, cst.Attribute):
            return self._explicit(callee.attr.value, updated, first=queue)
        return updated

    def _durable_callee(self, callee: cst.BaseExpression) -> Durable | None:
        if isinstance(callee, cst.Name):
            if callee.value in self._workflows[-1]:
                return None  # a parameter or local that shadows the module's function
            return self._facts.functions.get(callee.value)
        if (
            isinstance(callee, cst.Attribute)
            and isinstance(callee.value, cst.Name)
            and callee.value.value == "self"
            and self._classes
        ):
            return self._facts.methods.get(self._classes[-1], {}).get(callee.attr.value)
        return None

    def _direct(self, site: str, call: cst.Call) -> cst.Call:
        self._report.calls["direct"] = self._report.calls.get("direct", 0) + 1
        args, kwargs = _packed(call)
        return cst.Call(cst.Name(site), [cst.Arg(args, comma=_COMMA), cst.Arg(kwargs)])

    def _explicit(
        self, operation: str, call: cst.Call, first: cst.BaseExpression | None
    ) -> cst.Call:
        self._report.calls[operation] = self._report.calls.get(operation, 0) + 1
        args = list(call.args)
        before = call.whitespace_before_args
        if first is not None:
            if args:  # ``f(\n    a)`` -> ``step(f,\n    a)``: the arguments keep their lines
                after = before if isinstance(before, cst.ParenthesizedWhitespace) else _SPACE
                args.insert(0, cst.Arg(first, comma=cst.Comma(whitespace_after=after)))
                before = cst.SimpleWhitespace("")
            else:
                args.insert(0, cst.Arg(first))
        return call.with_changes(func=_runtime(operation), args=args, whitespace_before_args=before)


def _one_line(call: cst.Call) -> bool:
    return "\n" not in cst.Module([]).code_for_node(call)


def _packed(call: cst.Call) -> tuple[cst.Tuple, cst.Dict]:
    """A call's arguments as the ``(args, kwargs)`` literals the core takes."""
    positional: list[cst.BaseElement] = []
    keywords: list[cst.BaseDictElement] = []
    for arg in call.args:
        if arg.star == "**":
            keywords.append(cst.StarredDictElement(arg.value))
        elif arg.keyword is not None:
            keywords.append(cst.DictElement(cst.SimpleString(f'"{arg.keyword.value}"'), arg.value))
        elif arg.star == "*":
            positional.append(cst.StarredElement(arg.value))
        else:
            positional.append(cst.Element(arg.value))
    if len(positional) == 1:
        positional[0] = positional[0].with_changes(comma=cst.Comma())
    elements = [
        e.with_changes(comma=_COMMA) if i < len(positional) - 1 else e
        for i, e in enumerate(positional)
    ]
    entries = [
        e.with_changes(comma=_COMMA) if i < len(keywords) - 1 else e for i, e in enumerate(keywords)
    ]
    return cst.Tuple(elements), cst.Dict(entries)


def rewrite(
    module: cst.Module, facts: ModuleFacts, shapes: dict[str, str]
) -> tuple[cst.Module, Rewritten]:
    """The module with its workflows' durable calls made explicit, and what was rewritten.
    ``shapes``: workflow name -> shape fingerprint, recorded at registration."""
    report = Rewritten()
    updated = module.visit(_WorkflowBodies(facts, report, shapes))
    return updated, report
