"""The durable shape of each workflow, for ``dbos-manifest.json``: its durable calls in source
order (steps, transactions and child workflows by registered name, sleeps, sends, recvs,
events, streams, background starts, enqueues on a module's queue), with ``if``/``try``
alternatives as ``branch`` nodes and loop bodies (``for``, ``while``, comprehensions) as
``loop`` nodes.

A node is a dict: ``{"op": "step", "name": "price"}``, ``{"op": "sleep"}``,
``{"op": "branch", "paths": [[...], [...]]}``, ``{"op": "loop", "body": [...]}``. Blocks with no
durable call leave no node, so code between checkpoints can change freely.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import libcst as cst

from .analysis import Durable, ModuleFacts, locally_bound, queue_of, read_facts

Node = dict[str, Any]
_OPERATIONS = {
    "sleep", "sleep_async", "send", "send_async", "recv", "recv_async", "set_event",
    "set_event_async", "get_event", "get_event_async", "write_stream", "write_stream_async",
    "close_stream", "close_stream_async", "start_workflow", "start_workflow_async",
}  # fmt: skip
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class _Calls(cst.CSTVisitor):
    """Durable calls of one expression, in evaluation order (arguments before the call)."""

    def __init__(self, shaper: _Shaper) -> None:
        self.nodes: list[Node] = []
        self._shaper = shaper

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False  # runs later, if at all

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._loop(node)

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._loop(node)

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._loop(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._loop(node)

    def _loop(self, node: cst.CSTNode) -> bool:
        inner = _Calls(self._shaper)
        for child in node.children:
            child.visit(inner)
        if inner.nodes:
            self.nodes.append({"op": "loop", "body": inner.nodes})
        return False

    def leave_Call(self, original_node: cst.Call) -> None:
        found = self._shaper.durable(original_node.func)
        if found is not None:
            self.nodes.append(found)


class _Shaper:
    def __init__(self, facts: ModuleFacts, cls: str | None, bound: set[str]) -> None:
        self._facts = facts
        self._cls = cls
        self._bound = bound

    def durable(self, callee: cst.BaseExpression) -> Node | None:
        target: Durable | None = None
        qualname = ""
        if isinstance(callee, cst.Name) and callee.value not in self._bound:
            target = self._facts.functions.get(callee.value)
            qualname = callee.value
        elif (
            isinstance(callee, cst.Attribute)
            and isinstance(callee.value, cst.Name)
            and callee.value.value == "self"
            and self._cls is not None
        ):
            target = self._facts.methods.get(self._cls, {}).get(callee.attr.value)
            qualname = f"{self._cls}.{callee.attr.value}"
        elif isinstance(callee, cst.Attribute) and self._facts.is_dbos(callee.value):
            op = callee.attr.value
            if op in _OPERATIONS:
                return {"op": op.removesuffix("_async")}
        elif queue_of(callee, self._facts, self._bound) is not None:
            return {"op": "enqueue"}
        if target is None:
            return None
        return {"op": target.kind, "name": target.registered(qualname)}

    def expression(self, node: cst.CSTNode | None) -> list[Node]:
        if node is None:
            return []
        calls = _Calls(self)
        node.visit(calls)
        return calls.nodes

    def block(self, statements: Sequence[cst.CSTNode]) -> list[Node]:
        nodes: list[Node] = []
        for statement in statements:
            nodes += self.statement(statement)
        return nodes

    def _suite(self, suite: cst.BaseSuite | None) -> list[Node]:
        if suite is None:
            return []
        body = suite.body
        return self.block(body if isinstance(body, Sequence) else [body])

    def _branch(self, paths: list[list[Node]]) -> list[Node]:
        return [{"op": "branch", "paths": paths}] if any(paths) else []

    def statement(self, node: cst.CSTNode) -> list[Node]:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return []  # defined, not run here
        if isinstance(node, cst.If):
            paths = [self._suite(node.body), self._else(node.orelse)]
            return self.expression(node.test) + self._branch(paths)
        if isinstance(node, (cst.For, cst.While)):
            head = self.expression(node.iter if isinstance(node, cst.For) else node.test)
            body = self._suite(node.body)
            loop = [{"op": "loop", "body": body}] if body else []
            orelse = self._suite(node.orelse.body) if node.orelse is not None else []
            return head + loop + orelse
        if isinstance(node, cst.Try):
            handlers = [self._suite(h.body) for h in node.handlers]
            orelse = self._suite(node.orelse.body) if node.orelse is not None else []
            final = self._suite(node.finalbody.body) if node.finalbody is not None else []
            return self._suite(node.body) + self._branch([[], *handlers]) + orelse + final
        if isinstance(node, cst.With):
            items = [n for item in node.items for n in self.expression(item.item)]
            return items + self._suite(node.body)
        if isinstance(node, cst.Match):
            cases = [self._suite(case.body) for case in node.cases]
            return self.expression(node.subject) + self._branch([[], *cases])
        return self.expression(node)

    def _else(self, orelse: cst.If | cst.Else | None) -> list[Node]:
        if orelse is None:
            return []
        if isinstance(orelse, cst.If):
            return self.statement(orelse)
        return self._suite(orelse.body)


def _workflows(
    module: cst.Module, facts: ModuleFacts
) -> list[tuple[str, str | None, cst.FunctionDef]]:
    found: list[tuple[str, str | None, cst.FunctionDef]] = []
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            found.append((statement.name.value, None, statement))
        elif isinstance(statement, cst.ClassDef):
            for item in statement.body.body:
                if isinstance(item, cst.FunctionDef):
                    found.append(
                        (f"{statement.name.value}.{item.name.value}", statement.name.value, item)
                    )
    return found


def module_shapes(source: bytes) -> dict[str, list[Node]]:
    """Registered workflow name -> durable shape, for one module's source."""
    module = cst.parse_module(source)
    facts = read_facts(module)
    shapes: dict[str, list[Node]] = {}
    for qualname, cls, func in _workflows(module, facts):
        durable = facts.kind_of(func)
        if durable is None or durable.kind != "workflow":
            continue
        shaper = _Shaper(facts, cls, locally_bound(func))
        shapes[durable.registered(qualname)] = shaper._suite(func.body)
    return shapes
