"""Where the project's own modules live, so a workflow's helpers can be followed across files.

Nothing is ever imported or executed: an import's dotted name is mapped to a source file by
looking for ``<root>/a/b.py`` or ``<root>/a/b/__init__.py`` under a few roots (the importing
file's directory and its parents up to the project root, then ``<project root>/src``); relative
imports are resolved from the importing file's package. Names of the standard library, of
``dbos`` itself and builtins are never looked up: they are classified by the deny-lists.

A :class:`Project` lives for one run in one process. It memoises resolutions, file hashes and
parsed modules (a parse plus scope analysis is the expensive part), and records which
resolutions each analysis depended on so that the result cache can tell when a cached result
went stale (see ``dbos_compile.cache``).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from dbos_lint.catalogue.finding import Finding

_NEVER_PROJECT = frozenset({"builtins", "dbos", "__future__"}) | frozenset(
    getattr(sys, "stdlib_module_names", ())
)

T = TypeVar("T")


@dataclass
class ProjectTrace:
    """What checking one file found outside the file itself, and which project files the
    result depended on (the result cache keeps it with the file's findings).

    ``resolutions`` maps (importer, module) to the file found, or None; the importer is ``""``
    for the analysed file itself so that a result without any project dependency can be reused
    for an identical file elsewhere. ``deps`` are the content hashes of every other project file
    the analysis read; ``foreign`` the findings it made inside those files.
    """

    resolutions: dict[tuple[str, str], str | None] = field(default_factory=dict)
    deps: dict[str, str] = field(default_factory=dict)
    foreign: dict[str, list[Finding]] = field(default_factory=dict)

    @property
    def portable(self) -> bool:
        """True when no project file was involved: the result depends on the content alone
        (plus the fact that each looked-up module is still absent)."""
        return not self.deps and all(v is None for v in self.resolutions.values())


class Project(Generic[T]):
    """Module resolution and per-run memo for one project root (generic over the parsed-module
    type so that this file needs nothing from the checker)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        src = self.root / "src"
        self._src = src if src.is_dir() else None
        self._resolved: dict[tuple[Path, str], Path | None] = {}
        self._hashes: dict[Path, str | None] = {}
        self._modules: dict[Path, T | None] = {}
        self._roots: dict[Path, list[Path]] = {}
        #: Checked file (resolved) -> the trace of its last check this run.
        self.traces: dict[Path, ProjectTrace] = {}

    # -- resolution --------------------------------------------------------------------------
    def roots_for(self, directory: Path) -> list[Path]:
        """Import roots seen from a file in ``directory``: itself and its parents up to the
        project root (like ``sys.path[0]`` for a script, then the package roots), then src/."""
        cached = self._roots.get(directory)
        if cached is not None:
            return cached
        roots = [directory]
        if directory.is_relative_to(self.root):
            roots += [p for p in directory.parents if p.is_relative_to(self.root)]
        if self._src is not None and self._src not in roots:
            roots.append(self._src)
        self._roots[directory] = roots
        return roots

    def dotted_name(self, path: Path) -> str:
        """How ``path`` is imported (``src/myapp/flags.py``: ``myapp.flags``), or "" outside
        the project. Names in ``extra-forbidden``/``extra-allowed`` are matched against it."""
        for base in (self._src, self.root):
            if base is not None and path.is_relative_to(base):
                parts = list(path.relative_to(base).with_suffix("").parts)
                if parts and parts[-1] == "__init__":
                    parts.pop()
                return ".".join(parts)
        return ""

    @staticmethod
    def is_candidate(module: str) -> bool:
        """Whether a dotted module name could be a project module at all."""
        if module.startswith("."):
            return True
        return module.split(".", 1)[0] not in _NEVER_PROJECT

    def resolve(self, importer: Path, module: str) -> Path | None:
        """The source file of ``module`` imported from the file ``importer`` (resolved path)."""
        key = (importer.parent, module)
        if key in self._resolved:
            return self._resolved[key]
        found = self._find(importer, module)
        self._resolved[key] = found
        return found

    def _find(self, importer: Path, module: str) -> Path | None:
        if module.startswith("."):
            stripped = module.lstrip(".")
            level = len(module) - len(stripped)
            base = importer.parent
            for _ in range(level - 1):
                base = base.parent
            return _module_file(base, stripped.split(".") if stripped else [])
        parts = module.split(".")
        for root in self.roots_for(importer.parent):
            found = _module_file(root, parts)
            if found is not None:
                return found
        return None

    # -- memo ----------------------------------------------------------------------------------
    def file_hash(self, path: Path) -> str | None:
        """Content hash of a project file (None when it is gone), read once per run."""
        if path not in self._hashes:
            try:
                self._hashes[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                self._hashes[path] = None
        return self._hashes[path]

    def module(self, path: Path, load: Callable[[bytes], T | None]) -> T | None:
        """A parsed and indexed module, built once per run: many workflows share helpers."""
        if path not in self._modules:
            try:
                raw = path.read_bytes()
            except OSError:
                self._modules[path] = None
                return None
            self._hashes.setdefault(path, hashlib.sha256(raw).hexdigest())
            self._modules[path] = load(raw)
        return self._modules[path]

    def loaded(self, path: Path, raw: bytes) -> tuple[bool, T | None]:
        """(True, module) when ``path`` was already loaded this run with this very content."""
        if path in self._modules and self._hashes.get(path) == hashlib.sha256(raw).hexdigest():
            return True, self._modules[path]
        return False, None

    def remember(self, path: Path, raw: bytes, module: T | None) -> None:
        """Keep a module parsed for checking, so that workflows reaching it later do not parse
        it again."""
        self._hashes[path] = hashlib.sha256(raw).hexdigest()
        self._modules[path] = module

    def still_valid(self, path: Path, trace: ProjectTrace) -> bool:
        """Whether a cached result for ``path`` would come out the same today: every
        resolution still finds the same file (or still none) and every file read is unchanged."""
        for (importer, module), found in trace.resolutions.items():
            now = self.resolve(Path(importer) if importer else path, module)
            if (now.as_posix() if now else None) != found:
                return False
        return all(self.file_hash(Path(dep)) == digest for dep, digest in trace.deps.items())


def _module_file(base: Path, parts: list[str]) -> Path | None:
    if not parts:
        init = base / "__init__.py"
        return init.resolve() if init.is_file() else None
    target = base.joinpath(*parts)
    for candidate in (target.with_name(parts[-1] + ".py"), target / "__init__.py"):
        if candidate.is_file():
            return candidate.resolve()
    return None
