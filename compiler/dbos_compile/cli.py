"""``dbos-compile``: the command line. Subcommands are argparse subparsers: ``check``, ``explain``
and ``build`` (in ``build.py``).

Exit status follows ruff/ESLint: 0 clean, 1 findings (syntax errors included), 2 usage or
configuration errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dbos_compile.build import add_build, add_diff
from dbos_compile.cache import CACHE_DIR_NAME, ResultCache
from dbos_compile.config import ConfigError, load_config
from dbos_compile.formats import FORMATTERS
from dbos_compile.runner import default_jobs, run_check
from dbos_lint import RULES, explain, get_rule

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _UsageError(Exception):
    pass


def _codes(value: str) -> list[str]:
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    for code in codes:
        if not any(known.startswith(code) for known in RULES):
            raise argparse.ArgumentTypeError(f"unknown rule code or prefix: {code}")
    return codes


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser("check", help="check workflow modules for nondeterminism")
    check.add_argument("paths", nargs="+", type=Path, help="files or directories (*.py)")
    check.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    check.add_argument("--select", type=_codes, default=None, help="codes or prefixes, a,b")
    check.add_argument("--ignore", type=_codes, default=None, help="codes or prefixes, a,b")
    check.add_argument("--config", type=Path, default=None, help="pyproject.toml to use")
    check.add_argument("--no-cache", action="store_true", help="analyse every file again")
    check.add_argument(
        "--jobs", "-j", type=int, default=None, help="worker processes (default: CPU count)"
    )
    check.add_argument("--cache-dir", type=Path, default=None, help=argparse.SUPPRESS)
    check.set_defaults(handler=_run_check)


def _add_explain(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    explain_cmd = sub.add_parser("explain", help="print a rule's documentation")
    explain_cmd.add_argument("code", help="rule code, e.g. DBOS101")
    explain_cmd.set_defaults(handler=_run_explain)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dbos-compile", description="Static checks and code generation for DBOS."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_check(sub)
    _add_explain(sub)
    add_build(sub)
    add_diff(sub)
    return parser


def _run_check(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise _UsageError(f"no such file or directory: {', '.join(missing)}")
    cwd = Path.cwd()
    config = load_config(args.paths, cwd, args.config)
    select = args.select if args.select is not None else list(config.select)
    ignore = args.ignore if args.ignore is not None else list(config.ignore)
    cache = None
    if not args.no_cache:
        cache_dir = args.cache_dir or (config.root / CACHE_DIR_NAME)
        cache = ResultCache(cache_dir, config.settings)
    jobs = args.jobs if args.jobs is not None else default_jobs()
    if jobs < 1:
        raise _UsageError("--jobs must be at least 1")
    result = run_check(args.paths, config, select=select, ignore=ignore, cache=cache, jobs=jobs)
    sys.stdout.write(FORMATTERS[args.format](result))
    return EXIT_FINDINGS if result.count else EXIT_CLEAN


def _run_explain(args: argparse.Namespace) -> int:
    rule = get_rule(args.code)
    if rule is None:
        raise _UsageError(f"unknown rule code: {args.code} (known: {', '.join(RULES)})")
    sys.stdout.write(explain(rule))
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except (_UsageError, ConfigError) as exc:
        print(f"dbos-compile: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
