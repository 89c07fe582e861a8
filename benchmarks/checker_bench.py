"""How fast is ``dbos-compile check`` compared with just parsing the same files with libcst?

The check must be cheap enough for every commit: the goal is at most 2x a bare libcst parse.
This measures it on real third-party code (packages from the installed site-packages of the
running interpreter; by default pydantic, _pytest, psycopg and jinja2, about 125k lines), in
two forms:

* **as installed**: the packages unchanged. None of it declares a workflow, so the checker
  parses each file and stops, which is what a check of a whole repository mostly does.
* **every module declares workflows**: the same files with one function or method in
  ``--workflow-every`` (default 3) decorated ``@DBOS.workflow()``. Every module is then
  analysed, and the other functions are plain helpers that the workflows reach through calls,
  ``self``, base classes and imports across the corpus (the corpus directory is the project
  root, so ``from pydantic.fields import ...`` resolves to the copied files). This is the
  checker's worst case on code nobody wrote for it, findings included.

plus a generated corpus of DBOS-style modules (steps, transactions, class workflows, queues).

For each corpus the bare parse and the check run on 1 process and on ``--jobs`` processes
(default 2), alternating in each of ``--repeat`` rounds; the ratio printed is check time over
parse time with the same number of processes, per round and for the best round of each. Absolute
times on a shared machine are noise; ratios measured side by side are not.

Run: ``python benchmarks/checker_bench.py [--packages pydantic,jinja2] [--repeat 2] [--jobs 2]``
"""

from __future__ import annotations

import argparse
import ast
import gc
import random
import shutil
import statistics
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import libcst

from dbos_compile.cache import ResultCache
from dbos_compile.config import Config
from dbos_compile.runner import fewer_collections, run_check

DEFAULT_PACKAGES = ("pydantic", "_pytest", "psycopg", "jinja2")
_IMPORT = "import dbos as _bench_dbos\n"
_DECORATOR = "@_bench_dbos.DBOS.workflow()\n"


# -- corpora -----------------------------------------------------------------------------------
def copy_packages(site: Path, packages: Sequence[str], dest: Path, max_lines: int) -> list[Path]:
    """Copy whole packages (so their imports resolve inside the corpus), up to ``max_lines``."""
    paths: list[Path] = []
    lines = 0
    for name in packages:
        source = site / name
        if not source.is_dir():
            raise SystemExit(f"package {name!r} not found in {site}")
        for path in sorted(source.rglob("*.py")):
            if lines >= max_lines:
                return paths
            target = dest / path.relative_to(site)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            paths.append(target)
            lines += path.read_bytes().count(b"\n")
    return paths


def declare_workflows(path: Path, every: int) -> int:
    """Decorate one function or method in ``every`` of a module as a workflow, in place;
    returns how many. Files that do not parse are left alone (both sides report them)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return 0
    defs: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs.append(node)
        elif isinstance(node, ast.ClassDef):
            defs += [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    chosen = defs[::every]
    if not chosen:
        return 0
    lines = text.splitlines(keepends=True)
    for node in sorted(chosen, key=lambda d: d.lineno, reverse=True):
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        indent = lines[node.lineno - 1][: node.col_offset]
        lines.insert(first, indent + _DECORATOR)
    after = 0  # after the docstring and __future__ imports, which must come first
    for stmt in tree.body:
        is_doc = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        is_future = isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
        if not (is_doc or is_future):
            break
        after = stmt.end_lineno or stmt.lineno
    lines.insert(after, _IMPORT)
    path.write_text("".join(lines), encoding="utf-8")
    return len(chosen)


_HEADER = '''"""Generated workflow module {index}."""

import asyncio
import os
import random
import time
from datetime import datetime, timedelta

import requests
from sqlalchemy import text

from dbos import DBOS, DBOSConfiguredInstance, Queue

queue_{index} = Queue("queue_{index}", worker_concurrency=4)
SETTINGS = {{"url": os.environ.get("API_URL", "https://api.example.com")}}
'''

_BLOCKS = [
    """

@DBOS.step(retries_allowed=True, max_attempts=5)
def fetch_{n}(item_id: str) -> dict:
    response = requests.get(f"{{SETTINGS['url']}}/items/{{item_id}}", timeout=10)
    response.raise_for_status()
    return response.json()


@DBOS.transaction()
def save_{n}(item_id: str, payload: dict) -> None:
    DBOS.sql_session.execute(
        text("insert into items (id, body) values (:id, :body)"),
        {{"id": item_id, "body": str(payload)}},
    )


def normalise_{n}(payload: dict) -> dict:
    keys = sorted(payload)
    return {{k.lower(): payload[k] for k in keys if not k.startswith("_")}}


@DBOS.workflow()
def ingest_{n}(item_ids: list[str]) -> int:
    count = 0
    for item_id in item_ids:
        payload = normalise_{n}(fetch_{n}(item_id))
        save_{n}(item_id, payload)
        count += 1
    DBOS.set_event("progress", count)
    return count
""",
    """

@DBOS.step()
def roll_{n}() -> int:
    return random.randint(1, 6) + int(time.time()) % 3


@DBOS.workflow()
def game_{n}(rounds: int) -> list[int]:
    results = []
    deadline = datetime(2030, 1, 1) + timedelta(days=rounds)
    for _ in range(rounds):
        results.append(roll_{n}())
        DBOS.sleep(1)
    message = DBOS.recv("stop", timeout_seconds=5)
    if message is not None:
        return results
    return [r for r in results if r > 2] + [deadline.year]
""",
    """

@DBOS.dbos_class()
class Processor{n}(DBOSConfiguredInstance):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(config_name=source)

    @DBOS.step()
    def load(self, key: str) -> dict:
        return requests.get(self.source, params={{"key": key}}).json()

    def shape(self, data: dict) -> dict:
        return {{"key": data.get("key"), "size": len(data)}}

    @DBOS.workflow()
    def run(self, keys: list[str]) -> list[dict]:
        shaped = [self.shape(self.load(k)) for k in keys]
        handle = queue_{index}.enqueue(ingest_{n}, [s["key"] for s in shaped])
        return shaped + [{{"child": handle.workflow_id}}]
""",
    """

@DBOS.step()
async def fetch_async_{n}(url: str) -> str:
    return url.upper()


@DBOS.workflow()
async def fan_out_{n}(urls: list[str]) -> list[str]:
    await DBOS.sleep_async(1)
    results = await asyncio.gather(*(fetch_async_{n}(u) for u in urls))
    return list(results)
""",
]

_VIOLATION = """

@DBOS.workflow()
def stamped_{index}() -> float:
    return time.time()  # a real violation: clocks belong in steps
"""


def generate(
    directory: Path, modules: int, *, violation_every: int = 10, seed: int = 7
) -> list[Path]:
    """DBOS-style workflow modules of 150-400 lines; every ``violation_every``-th has a finding."""
    rng = random.Random(seed)
    paths = []
    for index in range(modules):
        parts = [_HEADER.format(index=index)]
        for n in range(rng.randint(2, 5)):
            for block in _BLOCKS:
                parts.append(block.format(n=n, index=index))
        if violation_every and index % violation_every == 0:
            parts.append(_VIOLATION.format(index=index))
        path = directory / f"workflows_{index:04d}.py"
        path.write_text("".join(parts), encoding="utf-8")
        paths.append(path)
    return paths


# -- measuring ---------------------------------------------------------------------------------
def _parse_file(path: str) -> int:
    try:
        libcst.parse_module(Path(path).read_bytes())
    except libcst.ParserSyntaxError:
        return 0
    return 1


def _parse_files(names: list[str]) -> int:
    with fewer_collections():
        return sum(_parse_file(name) for name in names)


def parse_all(paths: Sequence[Path], jobs: int, pool: ProcessPoolExecutor | None) -> None:
    """The baseline: parse every file, under the same garbage-collector setting as the check
    (with Python's default the bare parse is slower, which would flatter the ratio)."""
    names = [str(p) for p in paths]
    if jobs <= 1 or pool is None:
        _parse_files(names)
    else:
        size = max(1, -(-len(names) // (jobs * 4)))
        list(pool.map(_parse_files, [names[i : i + size] for i in range(0, len(names), size)]))


def _timed(action: Callable[[], object]) -> float:
    """Wall time of ``action``, started with no garbage left over from the previous one: a
    check leaves cyclic garbage that would otherwise slow whatever is measured next."""
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@dataclass
class Result:
    name: str
    files: int
    lines: int
    findings: int
    rows: list[tuple[int, float, float, list[float]]]  # jobs, best parse, best check, ratios


def measure(
    name: str, root: Path, paths: list[Path], jobs_list: Sequence[int], repeat: int
) -> Result:
    config = Config(root=root)
    lines = sum(p.read_bytes().count(b"\n") for p in paths)
    findings = run_check([root], config).count  # also warms the file system cache
    rows = []
    for jobs in jobs_list:
        parses, checks = [], []
        # The parse baseline gets a warm pool: pool start-up is charged to the check only.
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            parse_all(paths[:jobs], jobs, pool)
            for _ in range(repeat):
                parses.append(_timed(partial(parse_all, paths, jobs, pool)))
                checks.append(_timed(partial(run_check, [root], config, jobs=jobs)))
        ratios = [c / p for c, p in zip(checks, parses, strict=True)]
        rows.append((jobs, min(parses), min(checks), ratios))
    return Result(name, len(paths), lines, findings, rows)


def report(result: Result) -> None:
    print(f"\n{result.name}: {result.files} files, {result.lines:,} lines, "
          f"{result.findings} findings")  # fmt: skip
    for jobs, parse, check, ratios in result.rows:
        procs = f"{jobs} process{'es' if jobs > 1 else ''}"
        rounds = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"  {procs:<11} libcst parse {result.lines / parse:>9,.0f} lines/s   "
              f"check {result.lines / check:>9,.0f} lines/s   "
              f"ratio check/parse {check / parse:.2f}x "
              f"(per round: {rounds}; median {statistics.median(ratios):.2f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    site = Path(sysconfig.get_paths()["purelib"])
    parser.add_argument("--site-packages", type=Path, default=site)
    parser.add_argument("--packages", default=",".join(DEFAULT_PACKAGES))
    parser.add_argument("--max-lines", type=int, default=200_000)
    parser.add_argument("--workflow-every", type=int, default=3)
    parser.add_argument("--modules", type=int, default=60, help="generated DBOS-style modules")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    packages = [p.strip() for p in args.packages.split(",") if p.strip()]
    jobs_list = sorted({1, args.jobs})

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        plain = base / "as-installed"
        paths = copy_packages(args.site_packages, packages, plain, args.max_lines)
        results = [measure(f"real code as installed ({', '.join(packages)})", plain, paths,
                           jobs_list, args.repeat)]  # fmt: skip

        flows = base / "with-workflows"
        shutil.copytree(plain, flows)
        flow_paths = sorted(flows.rglob("*.py"))
        declared = sum(declare_workflows(p, args.workflow_every) for p in flow_paths)
        results.append(measure(f"the same code, every module declaring workflows ({declared} "
                               f"workflows, one def in {args.workflow_every})", flows, flow_paths,
                               jobs_list, args.repeat))  # fmt: skip

        generated = base / "generated"
        generated.mkdir()
        gen_paths = generate(generated, args.modules)
        results.append(measure("generated DBOS-style modules", generated, gen_paths, jobs_list,
                               args.repeat))  # fmt: skip

        config = Config(root=flows)
        cache = ResultCache(base / "cache", config.settings)
        cold = _timed(lambda: run_check([flows], config, cache=cache))
        warm = _timed(lambda: run_check([flows], config, cache=cache))

    for result in results:
        report(result)
    print(f"\ncache on the workflow corpus: cold {cold:.2f} s, warm {warm:.3f} s "
          f"({cold / warm:.0f}x faster when nothing changed)")  # fmt: skip


if __name__ == "__main__":
    main()
