"""The deny-list as the checks read it: which resolved qualified names break a workflow's
replay, merged from the family modules (each name is listed once, with its rule), and how a
name is matched against it.

Kept apart from the checks so the libcst checker and the mypy plugin match against the very
same tables, and so a reviewer can audit the list without reading visitor code.

Matching is on *resolved* qualified names (``from time import time as now`` makes ``now()`` read
``time.time``). Exact names win over module prefixes; the longest prefix wins among prefixes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TypeVar

from dbos_lint.catalogue.codes import CONFIGURED
from dbos_lint.catalogue.families import FAMILIES
from dbos_lint.catalogue.rule import Family

V = TypeVar("V")


def merged(table: Callable[[Family], Mapping[str, V]]) -> Mapping[str, V]:
    """One table of every family; a name listed by two families is an error of the catalogue
    (it would break one rule or the other depending on the order they were merged in)."""
    found: dict[str, V] = {}
    for family in FAMILIES:
        for name, value in table(family).items():
            if name in found:
                raise ValueError(f"{name} is listed by two rule families")
            found[name] = value
    return MappingProxyType(found)


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    return frozenset(name for names in sets for name in names)


EXACT_CALLS: Mapping[str, str] = merged(lambda f: f.calls)
MODULE_CALLS: Mapping[str, str] = merged(lambda f: f.modules)

#: Names flagged when merely read (no call needed): reading them observes host state.
ACCESSES: Mapping[str, str] = merged(lambda f: f.accesses)

_SEEDABLE = merged(lambda f: f.seedable)
#: Calls that are deterministic when given arguments: flag only when called with fewer
#: positional/keyword arguments than this (``random.Random(42)`` is fine, ``Random()`` is not).
MIN_ARGS_TO_BE_SAFE: Mapping[str, int] = MappingProxyType(
    {name: needed for name, (needed, _) in _SEEDABLE.items()}
)
MIN_ARGS_CODES: Mapping[str, str] = MappingProxyType(
    {name: code for name, (_, code) in _SEEDABLE.items()}
)

#: Names inside a deny-listed module that are safe to call: raising or catching an exception
#: class, or building a config value, does no I/O.
SAFE_SUFFIXES: tuple[str, ...] = ("Error", "Exception", "Warning", "Timeout", "Exit")

#: Plain data and pure functions that live in deny-listed modules: building a URL or a
#: request object, a lock, converting an address does no I/O and gives the same result on
#: every run.
SAFE_NAMES: frozenset[str] = _union(f.safe for f in FAMILIES)

#: The dbos decorators that make a function durable, after alias resolution.
WORKFLOW_DECORATORS: frozenset[str] = frozenset(["dbos.DBOS.workflow"])
STEP_DECORATORS: frozenset[str] = frozenset(["dbos.DBOS.step"])
TRANSACTION_DECORATORS: frozenset[str] = frozenset(["dbos.DBOS.transaction"])

#: The names of ``dbos`` the checks resolve that ``from dbos import *`` binds (it binds more;
#: the others are never looked up).
DBOS_STAR_EXPORTS: tuple[str, ...] = ("DBOS", "Queue")

#: mypy reports *definition* fullnames; typeshed defines some public names elsewhere.
MYPY_ALIASES: Mapping[str, str] = merged(lambda f: f.mypy_aliases)


def classify_call(
    name: str,
    *,
    nargs: int,
    allow_module_prefix: bool,
    extra_forbidden: frozenset[str] = frozenset(),
    extra_allowed: frozenset[str] = frozenset(),
) -> str | None:
    """The rule code a call to ``name`` breaks inside a workflow, if any.

    ``allow_module_prefix`` is False when the name is not a plain dotted path to the callee
    (``requests.get(u).json`` reads as ``requests.get.json``): then only exact names count, so a
    method chain is reported once, at the call that really does the I/O.
    """
    if matches_name(name, extra_allowed):
        return None
    if name in extra_forbidden or (allow_module_prefix and matches_name(name, extra_forbidden)):
        return CONFIGURED
    if name in MIN_ARGS_TO_BE_SAFE:
        return MIN_ARGS_CODES[name] if nargs < MIN_ARGS_TO_BE_SAFE[name] else None
    if name in EXACT_CALLS:
        return EXACT_CALLS[name]
    if not allow_module_prefix:
        return None
    module, _, leaf = name.rpartition(".")
    if leaf.endswith(SAFE_SUFFIXES) or name in SAFE_NAMES:
        return None
    while module:
        if module in MODULE_CALLS:
            return MODULE_CALLS[module]
        module = module.rpartition(".")[0]
    return None


def matches_name(name: str, patterns: frozenset[str]) -> bool:
    """Exact name or anything inside it: ``myapp.flags`` covers ``myapp.flags.is_enabled``."""
    return name in patterns or any(name.startswith(p + ".") for p in patterns)
