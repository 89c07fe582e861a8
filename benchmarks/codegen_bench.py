"""Per-step cost of generated code (``dbos-compile build``) against the decorated code it was
built from, in one process, alternating the two, and the ratio.

Two identical modules are written (names prefixed ``dec_`` and ``gen_``, so both can be
registered at once); the ``gen_`` one is compiled. Measured:

* ``dispatch``: a step called outside a workflow, N times, the way each kind of code calls it
  (``add(a, b)`` through the decorated wrapper; ``_dbos_step_add((a, b), {})``, the generated
  call site): what the call path costs before any checkpoint;
* ``in_workflow``: one workflow of N steps on a fresh SQLite system database (``synchronous``
  NORMAL), per step: the whole checkpointed step, where the database write dominates.

Usage: ``python benchmarks/codegen_bench.py [--steps N] [--rounds R]``; prints one JSON line
with medians in microseconds and ``ratio`` = generated / decorated (below 1: generated faster),
and ``ratio_of_best``, the same for the fastest round of each (steadier on a busy machine).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SOURCE = """
from dbos import DBOS


@DBOS.step()
def {p}add(a: int, b: int) -> int:
    return a + b


@DBOS.workflow()
def {p}flow(n: int) -> int:
    total = 0
    for i in range(n):
        total = {p}add(total, i)
    return total
"""


def _modules(root: Path) -> tuple[Any, Any]:
    from dbos_compile.codegen import tree

    src, out = root / "src", root / "out"
    src.mkdir()
    (src / "dec_bench.py").write_text(SOURCE.format(p="dec_"))
    (src / "gen_bench.py").write_text(SOURCE.format(p="gen_"))
    tree.write(out, tree.plan(src, out))
    sys.path[:0] = [str(out), str(src)]
    # dec_bench from SRC (decorated; OUT's copy of it is generated too, so import it by path)
    spec = importlib.util.spec_from_file_location("dec_bench", src / "dec_bench.py")
    assert spec is not None and spec.loader is not None
    decorated = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(decorated)
    generated = importlib.import_module("gen_bench")
    assert "_dbos_step_gen_add((total, i), {})" in (out / "gen_bench.py").read_text()
    return decorated, generated


def _dispatch(call: Any, packed: bool) -> Any:
    """N calls of a step outside a workflow, as a call site makes them."""

    def decorated(n: int) -> int:
        total = 0
        for i in range(n):
            total = call(total, i)
        return total

    def generated(n: int) -> int:
        total = 0
        for i in range(n):
            total = call((total, i), {})
        return total

    return generated if packed else decorated


def _time(call: Any, n: int) -> float:
    start = time.perf_counter()
    call(n)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    from dbos import DBOS

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        decorated, generated = _modules(root)
        url = f"sqlite:///{root / 'bench.sqlite'}"
        DBOS(config={"name": "codegen-bench", "system_database_url": url,
                     "sqlite_synchronous": "NORMAL"})  # fmt: skip
        DBOS.launch()
        results: dict[str, dict[str, list[float]]] = {
            "dispatch": {"decorated": [], "generated": []},
            "in_workflow": {"decorated": [], "generated": []},
        }
        pairs = [("decorated", decorated), ("generated", generated)]
        for round_ in range(args.rounds):  # alternate who goes first: the database grows
            for mode, module in pairs if round_ % 2 == 0 else pairs[::-1]:
                prefix = "dec_" if mode == "decorated" else "gen_"
                if mode == "decorated":
                    plain = _dispatch(decorated.dec_add, packed=False)
                else:
                    plain = _dispatch(generated._dbos_step_gen_add, packed=True)
                flow = getattr(module, f"{prefix}flow")
                results["dispatch"][mode].append(_time(plain, args.steps * 10))
                results["in_workflow"][mode].append(_time(flow, args.steps))
        DBOS.destroy()
    report: dict[str, Any] = {"steps": args.steps, "rounds": args.rounds}
    for name, by_mode in results.items():
        dec = statistics.median(by_mode["decorated"])
        gen = statistics.median(by_mode["generated"])
        best_dec, best_gen = min(by_mode["decorated"]), min(by_mode["generated"])
        report[name] = {
            "decorated_us": round(dec, 3),
            "generated_us": round(gen, 3),
            "ratio": round(gen / dec, 3),
            # The fastest round of each: on a busy machine, the least disturbed measurement.
            "ratio_of_best": round(best_gen / best_dec, 3),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
