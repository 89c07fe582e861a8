"""``dbos-compile build SRC --out OUT``: check SRC, then write (or, with ``--check``, verify)
the generated mirror. Nothing is written when the check finds anything. ``--against OLD``
(and ``dbos-compile diff OLD NEW``) says whether the old build's in-flight workflows can be
recovered by the new one; exit 1 on a breaking change, so CI can gate a deploy."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dbos_compile.codegen import evolution, manifest, tree
from dbos_compile.config import load_config
from dbos_compile.formats import FORMATTERS
from dbos_compile.runner import default_jobs, run_check

EXIT_CLEAN, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_build(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    build = sub.add_parser("build", help="generate checkpointing modules from SRC into OUT")
    build.add_argument("src", type=Path, help="the source tree (a folder)")
    build.add_argument("--out", type=Path, required=True, help="where the mirror is written")
    build.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if OUT is not up to date"
    )
    build.add_argument("--config", type=Path, default=None, help="pyproject.toml to use")
    build.add_argument(
        "--against", type=Path, default=None, help="the deployed build's dbos-manifest.json"
    )
    build.set_defaults(handler=run_build)


def add_diff(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    diff = sub.add_parser(
        "diff", help="can workflows in flight under OLD be recovered by NEW? (two manifests)"
    )
    diff.add_argument("old", type=Path, help="dbos-manifest.json of the deployed build")
    diff.add_argument("new", type=Path, help="dbos-manifest.json of the build to deploy")
    diff.set_defaults(handler=run_diff)


def _evolution(old: dict[str, Any], new: dict[str, Any]) -> int:
    verdicts = evolution.compare(old, new)
    sys.stdout.write(evolution.report(verdicts))
    return EXIT_FAILED if evolution.any_breaking(verdicts) else EXIT_CLEAN


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return manifest.load(path)
    except (OSError, ValueError) as exc:
        print(f"dbos-compile: error: {exc}", file=sys.stderr)
        return None


def run_diff(args: argparse.Namespace) -> int:
    old, new = _load(args.old), _load(args.new)
    if old is None or new is None:
        return EXIT_USAGE
    return _evolution(old, new)


def _describe(drift: tree.Drift) -> str:
    lines = [f"stale: {p}" for p in drift.stale]
    lines += [f"missing: {p}" for p in drift.missing]
    lines += [f"orphan: {p}" for p in drift.orphans]
    return "".join(f"  {line}\n" for line in lines)


def run_build(args: argparse.Namespace) -> int:
    src: Path = args.src
    out: Path = args.out
    if not src.is_dir():
        print(f"dbos-compile: error: not a folder: {src}", file=sys.stderr)
        return EXIT_USAGE
    config = load_config([src], Path.cwd(), args.config)
    checked = run_check(
        [src], config, select=list(config.select), ignore=list(config.ignore), jobs=default_jobs()
    )
    if checked.count:
        sys.stdout.write(FORMATTERS["text"](checked))
        print(f"dbos-compile build: {src} does not pass check; nothing written", file=sys.stderr)
        return EXIT_FAILED
    against = None
    if args.against is not None:
        against = _load(args.against)
        if against is None:
            return EXIT_USAGE
    wanted = tree.plan(src, out)
    if against is not None:
        verdict = _evolution(against, wanted.manifest)
        if verdict != EXIT_CLEAN:
            print("dbos-compile build: breaking changes; nothing written", file=sys.stderr)
            return verdict
    if args.check:
        found = tree.drift(out, wanted)
        if found.clean:
            return EXIT_CLEAN
        sys.stdout.write(f"{out} is not up to date with {src}:\n{_describe(found)}")
        return EXIT_FAILED
    changed = tree.write(out, wanted)
    print(
        f"dbos-compile build: {len(wanted.generated)} generated, "
        f"{len(wanted.files) - len(wanted.generated)} mirrored, "
        f"{len(changed.stale) + len(changed.missing)} written, {len(changed.orphans)} removed"
    )
    return EXIT_CLEAN
