"""The one rule catalogue: every code's name, message, rationale, fix and examples, and the
name tables that detect it.

One module per small family of rules, named by its codes (``dbos30x_concurrency`` holds
DBOS301 and DBOS302: their codes, texts, examples and the names they flag; its docstring says
which check detects them). ``names`` and ``objects`` merge the families' tables into the ones
the checks and the mypy plugin read; ``docs`` renders ``explain`` and docs/rules.md.

The libcst checker, ``dbos-compile check``/``explain``, docs/rules.md, the mypy plugin and the
tests all read this catalogue, so a rule's documentation and its behaviour cannot drift apart:
the examples are run by the catalogue tests and must be flagged (or not) exactly as stated.
Data only: nothing here imports the rest of the linter.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dbos_lint.catalogue.families import FAMILIES
from dbos_lint.catalogue.rule import Rule

RULES: Mapping[str, Rule] = MappingProxyType(
    {r.code: r for r in sorted((r for f in FAMILIES for r in f.rules), key=lambda r: r.code)}
)

__all__ = ["RULES", "Rule", "get_rule"]


def get_rule(code: str) -> Rule | None:
    return RULES.get(code.upper())
