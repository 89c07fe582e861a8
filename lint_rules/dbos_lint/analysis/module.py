"""One parsed and indexed module, as every analysis of a run shares it.

It holds no findings and nothing that depends on which workflow is being checked (values do,
through the project files they resolve, and live in the analysis), so a helper module is
parsed and indexed once per run however many workflows reach it (see ``Project.module``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import libcst as cst

from dbos_lint.analysis.collect import ModuleIndex
from dbos_lint.analysis.positions import Span, def_lines, function_spans, spans
from dbos_lint.analysis.suppressions import parse_suppressions
from dbos_lint.catalogue.settings import Settings


class ModuleChecker:
    def __init__(
        self,
        module: cst.Module,
        settings: Settings,
        path: Path | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.module = module
        self.settings = settings
        self.path = path
        self.raw = raw
        #: How the module is imported, when known (see ``Project.dotted_name``).
        self.dotted = ""
        self._index: ModuleIndex | None = None
        self._spans: dict[cst.CSTNode, Span] = {}
        self._lines: dict[cst.FunctionDef, tuple[int, str]] | None = None
        self._lines_read = False
        #: Quoted annotations, parsed (see ``annotations.parse_quoted``).
        self.quoted: dict[cst.SimpleString, cst.BaseExpression | None] = {}
        self._suppressions: dict[int, frozenset[str] | None] | None = None

    @property
    def index(self) -> ModuleIndex:
        """Built on first use: a module parsed only to be skipped never pays for it."""
        if self._index is None:
            walrus = self.raw is None or b":=" in self.raw
            self._index = ModuleIndex(self.module, self, walrus=walrus)
        return self._index

    @property
    def short_name(self) -> str:
        """How a chain names this module: ``helpers`` for app/helpers.py, ``app`` for
        app/__init__.py."""
        if self.path is None:
            return "<module>"
        return self.path.parent.name if self.path.name == "__init__.py" else self.path.stem

    @property
    def is_package(self) -> bool:
        return self.path is not None and self.path.name == "__init__.py"

    def positions(
        self, wanted: Mapping[cst.FunctionDef | None, Collection[cst.CSTNode]]
    ) -> Mapping[cst.CSTNode, Span]:
        """Positions of reported nodes, grouped by the function each lies in (None: unknown);
        computed only when there is something to report."""
        missing = {
            func: [node for node in nodes if node not in self._spans]
            for func, nodes in wanted.items()
        }
        missing = {func: nodes for func, nodes in missing.items() if nodes}
        if not missing:
            return self._spans
        lines = self._def_lines() if None not in missing else None
        if lines is None or any(func not in lines for func in missing):
            self._spans.update(spans(self.module, [n for ns in missing.values() for n in ns]))
            return self._spans
        for func, nodes in missing.items():
            assert func is not None
            line, indent = lines[func]
            self._spans.update(function_spans(self.module, func, line, indent, nodes))
        return self._spans

    def _def_lines(self) -> dict[cst.FunctionDef, tuple[int, str]] | None:
        if not self._lines_read:
            self._lines_read = True
            if self.raw is not None:
                self._lines = def_lines(self.raw, list(self.index.functions))
        return self._lines

    def suppressions(self) -> dict[int, frozenset[str] | None]:
        if self._suppressions is None:
            self._suppressions = parse_suppressions(self.raw) if self.raw is not None else {}
        return self._suppressions


def load_module(raw: bytes, settings: Settings, path: Path) -> ModuleChecker | None:
    """A helper module as the checker sees it; one that does not parse is not followed (it is
    reported as DBOS000 when checked itself)."""
    try:
        module = cst.parse_module(raw)
    except cst.ParserSyntaxError:
        return None
    return ModuleChecker(module, settings, path, raw)
