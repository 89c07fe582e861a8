"""Line and column of the few nodes that are reported, without libcst's PositionProvider.

PositionProvider records a range for every node of the module while regenerating its code,
which costs more than twice the parse. A finding needs the positions of a handful of nodes, so
this regenerates code with a codegen state that notes, for those nodes only, where their tokens
start and end, and turns the token offsets into lines and columns afterwards. Every reported
node lies inside a function the checker walked, so only that function's code is regenerated,
placed at the line and indentation CPython's own (much faster) ``ast`` parser gives its ``def``;
the whole module is regenerated only when that mapping is not available.

The positions are the same as PositionProvider's (its "syntactic" ranges: leading whitespace
and parentheses excluded); a test compares the two.
"""

from __future__ import annotations

import ast
import re
import sys
import threading
from collections.abc import Collection, Iterator, Sequence
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

    def __init__(self, module: cst.Module, wanted: set[cst.CSTNode], indent: str = "") -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        if indent:
            self.indent_tokens.append(indent)
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

    def clear_open(self) -> None:
        self._open.clear()

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.wanted:
            self._open[node] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        # Nodes without a syntactic range (rare: e.g. a Param) fall back to their full extent.
        start = self._open.pop(node, None)
        if start is not None and node not in self.offsets:
            self.offsets[node] = (start, len(self.tokens))


def spans(module: cst.Module, nodes: Collection[cst.CSTNode]) -> dict[cst.CSTNode, Span]:
    """Positions of ``nodes`` (all from ``module``), regenerating the whole module."""
    if not nodes:
        return {}
    state = _SpanState(module, set(nodes))
    _codegen(module, state)
    return _resolve(state, 1, 0)


def function_spans(
    module: cst.Module,
    func: cst.FunctionDef,
    def_line: int,
    indent: str,
    nodes: Collection[cst.CSTNode],
) -> dict[cst.CSTNode, Span]:
    """Positions of ``nodes`` inside ``func``, whose ``def`` is on ``def_line`` (1-based) after
    ``indent``; only the function's code is regenerated."""
    state = _SpanState(module, {*nodes, func}, indent)
    _codegen(func, state)
    found = _resolve(state, 1, 0)
    shift = def_line - found[func].line
    return {
        node: Span(span.line + shift, span.column, span.end_line + shift, span.end_column)
        for node, span in found.items()
    }


def _codegen(node: cst.CSTNode, state: _SpanState) -> None:
    """libcst's codegen recurses once per nesting level: a generated ``a + a + ... + a`` of a
    few thousand terms exceeds the default limit. Such code is retried on a thread with a
    large stack and a high recursion limit (safe on every supported Python)."""
    try:
        node._codegen(state)
        return
    except RecursionError:
        state.tokens.clear()
        state.offsets.clear()
        state.clear_open()
    failure: list[BaseException] = []

    def run() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, _DEEP_LIMIT))
        try:
            node._codegen(state)
        except BaseException as exc:  # re-raised in the calling thread
            failure.append(exc)
        finally:
            sys.setrecursionlimit(old)

    previous = threading.stack_size(_DEEP_STACK)
    try:
        worker = threading.Thread(target=run, name="dbos-lint-codegen")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous)
    if failure:
        raise failure[0]


_DEEP_LIMIT = 200_000
_DEEP_STACK = 512 * 1024 * 1024


def _resolve(state: _SpanState, first_line: int, first_column: int) -> dict[cst.CSTNode, Span]:
    tokens = state.tokens
    marks = sorted({offset for pair in state.offsets.values() for offset in pair})
    where: dict[int, tuple[int, int]] = {}
    line, column, done = first_line, first_column, 0
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


_DEF = re.compile(r"^([ \t\f]*)(?:async[ \t]+)?def[ \t\\]+(\w+)", re.MULTILINE)


def def_lines(
    source: bytes, functions: Sequence[cst.FunctionDef]
) -> dict[cst.FunctionDef, tuple[int, str]] | None:
    """``def`` line and indentation of each function; ``functions`` are libcst's, in source
    order. A ``def`` always starts a line, so a scan of the text finds every real one; when it
    finds exactly libcst's functions, same names in the same order, none came from a string.
    Otherwise CPython's parser decides (None when it cannot parse the file either)."""
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\r" not in text.replace("\r\n", ""):
        found: list[tuple[int, str, str]] = []
        line, done = 1, 0
        for match in _DEF.finditer(text):
            line += text.count("\n", done, match.start())
            done = match.start()
            found.append((line, match.group(1), match.group(2)))
        names = [name for _, _, name in found]
        if names == [func.name.value for func in functions]:
            return {
                f: (line, indent) for f, (line, indent, _) in zip(functions, found, strict=True)
            }
    return _ast_def_lines(source, functions)


def _ast_def_lines(
    source: bytes, functions: Sequence[cst.FunctionDef]
) -> dict[cst.FunctionDef, tuple[int, str]] | None:
    """``def`` line and indentation of each function, from CPython's parser: ``functions`` are
    libcst's, in source order, and are matched one to one with ``ast``'s (None when the two
    parsers disagree, e.g. on syntax newer than the running interpreter)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    found: list[tuple[int, int, str]] = []
    stack: list[ast.stmt] = list(tree.body)
    while stack:  # functions are statements: no need to visit expressions (ast.walk is slow)
        stmt = stack.pop()
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append((stmt.lineno, stmt.col_offset, stmt.name))
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(stmt, field, ()):
                if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    stack.extend(child.body)
                elif isinstance(child, ast.stmt):
                    stack.append(child)
    found.sort()
    if len(found) != len(functions):
        return None
    lines = source.splitlines()
    result: dict[cst.FunctionDef, tuple[int, str]] = {}
    for func, (line, column, name) in zip(functions, found, strict=True):
        if func.name.value != name or line > len(lines):
            return None
        result[func] = (line, lines[line - 1][:column].decode("utf-8", "replace"))
    return result
