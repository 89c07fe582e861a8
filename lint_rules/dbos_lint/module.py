"""One parsed and indexed module, as every analysis of a run shares it.

It holds no findings and nothing that depends on which workflow is being checked (values do,
through the project files they resolve, and live in the analysis), so a helper module is
parsed and indexed once per run however many workflows reach it (see ``Project.module``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import libcst as cst

from dbos_lint.collect import ModuleIndex
from dbos_lint.model import Settings
from dbos_lint.positions import Span, spans
from dbos_lint.suppress import parse_suppressions


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
        self.index = ModuleIndex(module, self)
        self._spans: dict[cst.CSTNode, Span] = {}
        self._suppressions: dict[int, frozenset[str] | None] | None = None

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

    def positions(self, nodes: Collection[cst.CSTNode]) -> Mapping[cst.CSTNode, Span]:
        """Computed only for reported nodes, and only when there is something to report."""
        missing = [node for node in nodes if node not in self._spans]
        if missing:
            self._spans.update(spans(self.module, missing))
        return self._spans

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
