"""``check``'s engine: expand paths, consult the cache, run the checker, filter codes."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dbos_compile.cache import CACHE_DIR_NAME, ResultCache
from dbos_compile.config import Config
from dbos_lint import Finding, Settings, check_source

#: Below this many files to analyse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 16
_SKIP_DIRS = {"__pycache__", "node_modules", "build", "dist", CACHE_DIR_NAME}


@dataclass(frozen=True)
class FileFindings:
    path: str
    findings: tuple[Finding, ...]


@dataclass
class RunResult:
    files: list[FileFindings] = field(default_factory=list)
    checked: int = 0
    cache_hits: int = 0

    @property
    def count(self) -> int:
        return sum(len(f.findings) for f in self.files)


def iter_python_files(paths: Sequence[Path], config: Config) -> Iterator[Path]:
    """Files in argument order, directories recursively (sorted, hidden dirs skipped)."""
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            candidates: list[Path] = []
            for directory, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(
                    d
                    for d in dirnames
                    if not d.startswith(".")
                    and d not in _SKIP_DIRS
                    and not config.is_excluded(Path(directory, d))
                )
                candidates += [Path(directory, f) for f in sorted(filenames) if f.endswith(".py")]
        else:
            candidates = [path]
        for candidate in candidates:
            key = candidate.resolve()
            if key in seen or config.is_excluded(candidate):
                continue
            seen.add(key)
            yield candidate


def code_selected(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Prefix matching like ruff: the most specific matching prefix decides."""
    best_select = max((len(s) for s in select if code.startswith(s)), default=-1)
    if select and best_select < 0:
        return False
    best_ignore = max((len(i) for i in ignore if code.startswith(i)), default=-1)
    return best_ignore < 0 or best_select > best_ignore


def _analyse(job: tuple[bytes, Settings]) -> list[Finding]:
    return check_source(job[0], job[1])


def _analyse_all(contents: list[bytes], settings: Settings, jobs: int) -> list[list[Finding]]:
    """Serial for a handful of files (worker start-up costs more than it saves), else a
    process pool: libcst's analysis is pure Python, so threads would not help."""
    if jobs <= 1 or len(contents) < PARALLEL_THRESHOLD:
        return [check_source(content, settings) for content in contents]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        chunk = max(1, len(contents) // (jobs * 4))
        return list(pool.map(_analyse, [(c, settings) for c in contents], chunksize=chunk))


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def run_check(
    paths: Sequence[Path],
    config: Config,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    cache: ResultCache | None = None,
    jobs: int = 1,
) -> RunResult:
    result = RunResult()
    files = list(iter_python_files(paths, config))
    contents = [path.read_bytes() for path in files]
    cached: list[list[Finding] | None] = [
        cache.get(c) if cache is not None else None for c in contents
    ]
    misses = [i for i, found in enumerate(cached) if found is None]
    # Identical files (generated code, vendored copies) are analysed once per run.
    unique = list(dict.fromkeys(contents[i] for i in misses))
    fresh = dict(zip(unique, _analyse_all(unique, config.settings, jobs), strict=True))
    for content, findings in fresh.items():
        if cache is not None:
            cache.put(content, findings)
    for i in misses:
        cached[i] = fresh[contents[i]]
    result.cache_hits = len(files) - len(misses)
    result.checked = len(files)
    for path, found in zip(files, cached, strict=True):
        kept = tuple(f for f in found or () if code_selected(f.code, select, ignore))
        if kept:
            result.files.append(FileFindings(path=path.as_posix(), findings=kept))
    return result
