"""One walk over a workflow body (or a helper it reaches, or a step body), applying the
body rules (``calls``, ``reads`` and the families they use) to the nodes they are about.

In a workflow, and the plain code it reaches, everything is judged; in a step or a
transaction only API misuse is checked: steps are the sanctioned place for nondeterminism.

The walk is a loop over an explicit stack, not a libcst visitor: it reads the fields that can
hold code (``syntax.read_children``) and switches scope at lambdas, comprehensions, nested
functions and classes. That keeps it a small fraction of the parse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import libcst as cst

from dbos_lint.analysis.parsed_module import Kind
from dbos_lint.analysis.scopes import COMPREHENSIONS
from dbos_lint.analysis.syntax import all_params, read_children_reversed
from dbos_lint.analysis.values import Frame
from dbos_lint.checks.calls import CallRules
from dbos_lint.checks.reads import ReadRules

Item = tuple[cst.CSTNode, Frame]


class _SetFrame:
    """A marker on the walk's stack: continue in ``frame``."""

    __slots__ = ("frame",)

    def __init__(self, frame: Frame) -> None:
        self.frame = frame


class BodyWalker(CallRules, ReadRules):
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

    # -- statements the rule families share ------------------------------------------------------
    def _assign(self, node: cst.Assign, frame: Frame) -> None:
        """``a, b = s`` unpacks a set (DBOS501); every target may change shared state
        (DBOS402)."""
        if not self.workflow:
            return
        self._unpacking(node, frame)
        for target in node.targets:
            self._mutation(target.target, frame)

    def _yield(self, node: cst.Yield, frame: Frame) -> None:
        """The first ``yield`` of the walked function's own body: a workflow, step or
        transaction with one is a generator (DBOS603, reported with its signature)."""
        if frame.scope is self._root_scope and self.first_yield is None:
            self.first_yield = node

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


def _on_except(w: BodyWalker, node: cst.CSTNode, frame: Frame) -> list[Item] | None:
    node = cast("cst.ExceptHandler | cst.ExceptStarHandler", node)
    w._except_handler(node, frame)
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
    cst.ExceptHandler: _on_except,
    cst.ExceptStarHandler: _on_except,
    cst.FunctionDef: _on_function,
    cst.ClassDef: _on_class,
    cst.Lambda: _on_lambda,
    **{comp: _on_comprehension for comp in COMPREHENSIONS},
}
