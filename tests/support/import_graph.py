"""Who imports whom among a project's own modules, read from the source (``ast``), so that a
layer order can be tested.

Every import counts, also those inside functions, under ``TYPE_CHECKING``, and module names a
lazy import spells as a string (``importlib.import_module("pkg.mod")``): "may I import X
here?" has one answer, and no circle hides behind a function-level import.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported (a package's own name for its __init__)
    names: tuple[str, ...]  # what ``from target import ...`` takes (empty for ``import target``)
    line: int


def modules_under(roots: Mapping[str, Path]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under each package root."""
    found = {}
    for package, root in roots.items():
        for path in sorted(root.rglob("*.py")):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(
    module: str, modules: Mapping[str, Path], lazy_names: re.Pattern[str]
) -> Iterator[Import]:
    """Every import ``module`` makes, wherever it stands; ``lazy_names`` matches the strings
    that may name a module imported lazily (only those naming a module in ``modules`` count)."""
    path = modules[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            names = tuple(alias.name for alias in node.names)
            submodules = [n for n in names if f"{base}.{n}" in modules]
            for name in submodules:
                yield Import(module, f"{base}.{name}", (), node.lineno)
            rest = tuple(n for n in names if n not in submodules)
            if rest:
                yield Import(module, base, rest, node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if lazy_names.fullmatch(node.value) and node.value in modules:
                yield Import(module, node.value, (), node.lineno)


def project_imports(modules: Mapping[str, Path], lazy_names: re.Pattern[str]) -> list[Import]:
    """The imports of one module of ``modules`` by another."""
    return [
        found
        for module in modules
        for found in imports_of(module, modules, lazy_names)
        if found.target in modules and found.target != module
    ]


def circles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    graph: dict[str, list[str]] = {}
    for source, target in sorted(set(edges)):
        graph.setdefault(source, []).append(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
