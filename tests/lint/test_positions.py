"""The checker's own positions agree with libcst's PositionProvider, node for node."""

from __future__ import annotations

import random
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider
from lint_support import CORPUS, REPO

from dbos_lint.analysis.parsed_module import ParsedModule
from dbos_lint.analysis.positions import def_lines, function_spans, spans
from dbos_lint.analysis.syntax import read_children
from dbos_lint.catalogue.settings import Settings

#: Node kinds the checker reports, and a few more with unusual spans.
_KINDS = (
    cst.Call,
    cst.Attribute,
    cst.Name,
    cst.Subscript,
    cst.Yield,
    cst.Param,
    cst.SimpleString,
    cst.BinaryOperation,
    cst.Lambda,
    cst.ListComp,
)
_SOURCES = sorted(
    [
        *(REPO / "lint_rules" / "dbos_lint").rglob("*.py"),
        *CORPUS.rglob("*.py"),
    ]
)


def _inside(func: cst.FunctionDef) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [func.params, func.body]
    if func.returns is not None:
        stack.append(func.returns.annotation)
    while stack:
        node = stack.pop()
        if isinstance(node, _KINDS):
            found.append(node)
        if isinstance(node, cst.Param):
            stack.append(node.name)
        stack.extend(read_children(node))
    return found


def _expected(module: cst.Module) -> dict[cst.CSTNode, tuple[int, int, int, int]]:
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {n: (r.start.line, r.start.column, r.end.line, r.end.column) for n, r in ranges.items()}


@pytest.mark.parametrize("path", _SOURCES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_function_positions_match_position_provider(path: Path) -> None:
    raw = path.read_bytes()
    module = cst.parse_module(raw)
    index = ParsedModule(module, Settings(), path, raw).index
    lines = def_lines(raw, list(index.functions))
    assert lines is not None
    expected = _expected(module)
    rng = random.Random(path.name)
    for func in index.functions:
        nodes = _inside(func)
        sample = rng.sample(nodes, min(len(nodes), 25))
        line, indent = lines[func]
        got = function_spans(module, func, line, indent, sample)
        for node in sample:
            span = got[node]
            assert (span.line, span.column, span.end_line, span.end_column) == expected[node], (
                f"{path.name}:{func.name.value}: {module.code_for_node(node)!r}"
            )


def test_whole_module_positions_match_position_provider() -> None:
    path = REPO / "lint_rules" / "dbos_lint" / "checks" / "body_walker.py"
    module = cst.parse_module(path.read_bytes())
    expected = _expected(module)
    nodes = [n for n in expected if isinstance(n, _KINDS)]
    got = spans(module, nodes)
    for node in nodes:
        span = got[node]
        assert (span.line, span.column, span.end_line, span.end_column) == expected[node]


def test_def_lines_are_not_fooled_by_defs_in_strings() -> None:
    source = (
        b'def f():\n    """Example:\n\n    def fake():\n        pass\n    """\n'
        b"\n\ndef g():\n    pass\n"
    )
    module = cst.parse_module(source)
    functions = [s for s in module.body if isinstance(s, cst.FunctionDef)]
    found = def_lines(source, functions)
    assert found is not None
    assert [found[f] for f in functions] == [(1, ""), (9, "")]
    # When the text scan is ambiguous and CPython cannot parse the file: no mapping (the
    # checker then regenerates the whole module instead).
    broken = source.replace(b"def g():", b"def g(:")
    assert def_lines(broken, functions) is None
