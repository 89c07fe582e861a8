"""How fast is ``dbos-compile check`` compared with just parsing the same files with libcst?

The check must be cheap enough for every commit. This generates a corpus of realistic workflow
modules (steps, transactions, class workflows, helpers, queues, a few violations), then measures:

* plain ``libcst.parse_module`` over every file (the floor: we cannot be faster than parsing);
* ``check`` without cache (parse + scope analysis + rules);
* ``check`` with a cold cache (analysis + cache writes) and a warm cache (unchanged files).

The corpus is all workflow modules (the checker's worst case: a module without a dbos decorator is
only parsed); by default one module in ten contains a finding, like a codebase that is mostly
clean. Run: ``python benchmarks/checker_bench.py [--modules 80] [--repeat 2] [--jobs N]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import libcst

from dbos_compile.cache import ResultCache
from dbos_compile.config import Config
from dbos_compile.runner import default_jobs, run_check

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
    """Workflow modules of 150-400 lines; every ``violation_every``-th one has a finding."""
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


def _best(repeat: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modules", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--violation-every", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "corpus"
        corpus.mkdir()
        paths = generate(corpus, args.modules, violation_every=args.violation_every)
        lines = sum(p.read_text().count("\n") for p in paths)
        config = Config(root=root)

        def parse_all() -> None:
            for path in paths:
                libcst.parse_module(path.read_bytes())

        parse = _best(args.repeat, parse_all)
        check = _best(args.repeat, lambda: run_check([corpus], config))
        findings = run_check([corpus], config).count
        parallel = _best(args.repeat, lambda: run_check([corpus], config, jobs=args.jobs))

        def cold() -> None:
            cache_dir = root / f"cache-{time.perf_counter_ns()}"
            cache = ResultCache(cache_dir, config.settings)
            run_check([corpus], config, cache=cache, jobs=args.jobs)

        cold_time = _best(args.repeat, cold)
        warm_cache = ResultCache(root / "warm", config.settings)
        run_check([corpus], config, cache=warm_cache)
        warm = _best(args.repeat, lambda: run_check([corpus], config, cache=warm_cache))

    print(f"corpus: {len(paths)} modules, {lines} lines, {findings} findings")
    print(f"libcst parse only     : {lines / parse:>10,.0f} lines/s  ({parse:.3f} s)")
    print(f"check, 1 process      : {lines / check:>10,.0f} lines/s  ({check:.3f} s)")
    print(
        f"check, {args.jobs} processes    : {lines / parallel:>10,.0f} lines/s  ({parallel:.3f} s)"
    )
    print(f"check, cold cache     : {lines / cold_time:>10,.0f} lines/s  ({cold_time:.3f} s)")
    print(f"check, warm cache     : {lines / warm:>10,.0f} lines/s  ({warm:.3f} s)")
    print(f"ratio check/parse time (1 process): {check / parse:.2f}x")
    print(f"warm-cache speed-up: {check / warm:.0f}x faster than analysing again")


if __name__ == "__main__":
    main()
