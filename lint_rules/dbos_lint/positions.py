"""Line and column of the few nodes that are reported, without libcst's PositionProvider.

PositionProvider records a range for every node of the module while regenerating its code,
which costs more than twice the parse. A finding needs the positions of a handful of nodes, so
this regenerates the code once with a codegen state that notes, for those nodes only, where
their tokens start and end, and turns the token offsets into lines and columns afterwards.
The positions are the same as PositionProvider's (its "syntactic" ranges: leading whitespace
and parentheses excluded); a test compares the two.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True)
class Span:
    """1-based line, 0-based column, like libcst's CodeRange."""

    line: int
    column: int
    end_line: int
    end_column: int


class _SpanState(CodegenState):
    """Codegen that remembers token offsets for the wanted nodes only."""

    def __init__(self, module: cst.Module, wanted: set[cst.CSTNode]) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.wanted = wanted
        self.offsets: dict[cst.CSTNode, tuple[int, int]] = {}
        self._open: dict[cst.CSTNode, int] = {}

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        if node not in self.wanted:
            yield
            return
        for hoisted in (start_node, end_node):
            if hoisted is not None:
                self.wanted.add(hoisted)
        start = len(self.tokens)
        yield
        end = len(self.tokens)
        if start_node is not None:
            start = self.offsets[start_node][0]
        if end_node is not None:
            end = self.offsets[end_node][1]
        self.offsets[node] = (start, end)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.wanted:
            self._open[node] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        # Nodes without a syntactic range (rare: e.g. a Param) fall back to their full extent.
        start = self._open.pop(node, None)
        if start is not None and node not in self.offsets:
            self.offsets[node] = (start, len(self.tokens))


def spans(module: cst.Module, nodes: Collection[cst.CSTNode]) -> dict[cst.CSTNode, Span]:
    """Positions of ``nodes`` (all from ``module``); other nodes may appear in the result."""
    if not nodes:
        return {}
    wanted = set(nodes)
    state = _SpanState(module, wanted)
    module._codegen(state)
    tokens = state.tokens
    marks = sorted({offset for pair in state.offsets.values() for offset in pair})
    where: dict[int, tuple[int, int]] = {}
    line, column, done = 1, 0, 0
    for mark in marks:
        if mark > done:
            text = "".join(tokens[done:mark])
            pieces = _NEWLINE.split(text)
            if len(pieces) == 1:
                column += len(text)
            else:
                line += len(pieces) - 1
                column = len(pieces[-1])
            done = mark
        where[mark] = (line, column)
    found: dict[cst.CSTNode, Span] = {}
    for node, (start, end) in state.offsets.items():
        (line, column), (end_line, end_column) = where[start], where[end]
        found[node] = Span(line, column, end_line, end_column)
    return found
