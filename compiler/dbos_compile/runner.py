"""``check``'s engine: expand paths, consult the cache, run the checker, filter codes."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbos_compile.cache import CACHE_DIR_NAME, ResultCache
from dbos_compile.config import Config
from dbos_lint import Finding, Project, ProjectTrace, Settings, check_source, new_project

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


#: One unit of work: content, settings, project root, path, how messages name the file.
_Job = tuple[bytes, Settings, str, str, str]
_Result = tuple[list[Finding], ProjectTrace]

#: Worker processes keep one Project (parsed helper modules, resolutions) per project root for
#: the life of the pool, i.e. one run.
_WORKER_PROJECTS: dict[str, Project[Any]] = {}


def _analyse_with(project: Project[Any], job: _Job) -> _Result:
    content, settings, _, path, display = job
    found = check_source(content, settings, path=Path(path), project=project, display=display)
    return found, project.traces.pop(Path(path).resolve(), ProjectTrace())


def _analyse(job: _Job) -> _Result:
    project = _WORKER_PROJECTS.get(job[2])
    if project is None:
        project = _WORKER_PROJECTS[job[2]] = new_project(Path(job[2]))
    return _analyse_with(project, job)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cyclic garbage less often while checking.

    A run keeps every parsed module it may need again (helpers are shared between files), and
    Python's collector walks all of them each time it runs a full collection; with the default
    thresholds that was a third of a run's time. The analysis itself makes little cyclic
    garbage, so collecting a hundred times less often costs little memory."""
    old = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _analyse_part(part: list[_Job]) -> list[_Result]:
    with fewer_collections():
        return [_analyse(job) for job in part]


def partition(sizes: list[int], parts: int) -> list[range]:
    """Split a list into ``parts`` contiguous runs of about equal total size."""
    total = sum(sizes)
    runs: list[range] = []
    start, acc = 0, 0
    for i, size in enumerate(sizes):
        acc += size
        if len(runs) < parts - 1 and acc >= total * (len(runs) + 1) / parts:
            runs.append(range(start, i + 1))
            start = i + 1
    runs.append(range(start, len(sizes)))
    return [r for r in runs if len(r)]


def _analyse_all(jobs_list: list[_Job], project: Project[Any], jobs: int) -> list[_Result]:
    """Serial for a handful of files (worker start-up costs more than it saves), else a
    process pool: libcst's analysis is pure Python, so threads would not help.

    Each worker gets one contiguous run of the (sorted) files, of about equal size: files next
    to each other import each other, and a worker parses a helper module at most once however
    many of its files reach it, so interleaving files across workers would make both parse
    the same helpers."""
    if jobs <= 1 or len(jobs_list) < PARALLEL_THRESHOLD:
        with fewer_collections():
            return [_analyse_with(project, job) for job in jobs_list]
    runs = partition([len(job[0]) for job in jobs_list], jobs)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        done = pool.map(_analyse_part, [[jobs_list[i] for i in run] for run in runs])
        return [result for part in done for result in part]


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _display(path: Path, cwd: Path) -> str:
    """How a helper file that was not named on the command line is shown: relative to the
    working directory when it is below it."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def _message_name(path: Path, root: Path) -> str:
    """How cross-module messages name the workflow's file: relative to the project root, so the
    text does not depend on where the command was run."""
    resolved = path.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else path.name


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
    project: Project[Any] = new_project(config.root)
    files = list(iter_python_files(paths, config))
    resolved = [path.resolve() for path in files]
    contents = [path.read_bytes() for path in files]
    results: list[_Result | None] = [
        cache.get(c, r, project.still_valid) if cache is not None else None
        for c, r in zip(contents, resolved, strict=True)
    ]
    misses = [i for i, found in enumerate(results) if found is None]
    root = config.root.as_posix()

    def job(i: int) -> _Job:
        name = _message_name(files[i], config.root)
        return (contents[i], config.settings, root, files[i].as_posix(), name)

    # Identical files (generated code, vendored copies) are analysed once per run, unless the
    # result depended on where the file is (what its imports resolved to).
    first: dict[bytes, int] = {}
    for i in misses:
        first.setdefault(contents[i], i)
    leaders = list(first.values())
    for i, leader_result in zip(
        leaders, _analyse_all([job(i) for i in leaders], project, jobs), strict=True
    ):
        results[i] = leader_result
    again: list[int] = []
    for i in misses:
        leader = results[first[contents[i]]]
        assert leader is not None
        if results[i] is not None:
            continue
        if leader[1].portable and project.still_valid(resolved[i], leader[1]):
            results[i] = leader
        else:
            again.append(i)
    for i, again_result in zip(
        again, _analyse_all([job(i) for i in again], project, jobs), strict=True
    ):
        results[i] = again_result
    if cache is not None:
        for i in misses:
            stored = results[i]
            assert stored is not None
            cache.put(contents[i], resolved[i], stored[0], stored[1])
    result.cache_hits = len(files) - len(misses)
    result.checked = len(files)

    # Findings land in the file they are in: a helper's in the helper file, once per
    # (line, column, code) whichever workflows reach it; the first file in order names the chain.
    names = {r: f.as_posix() for r, f in zip(resolved, files, strict=True)}
    merged: dict[Path, dict[tuple[int, int, str], Finding]] = {}
    for r, done in zip(resolved, results, strict=True):
        for finding in done[0] if done else ():
            merged.setdefault(r, {}).setdefault(
                (finding.line, finding.column, finding.code), finding
            )
    for done in results:
        for helper, found in sorted(done[1].foreign.items()) if done else ():
            target = Path(helper)
            if target not in names and config.is_excluded(target):
                continue
            for finding in found:
                key = (finding.line, finding.column, finding.code)
                merged.setdefault(target, {}).setdefault(key, finding)
    cwd = Path.cwd()
    order = [*resolved, *sorted(p for p in merged if p not in names)]
    for path in order:
        unique = merged.pop(path, None)
        if unique is None:
            continue
        kept = tuple(f for f in sorted(unique.values()) if code_selected(f.code, select, ignore))
        if kept:
            name = names.get(path) or _display(path, cwd)
            result.files.append(FileFindings(path=name, findings=kept))
    return result
