"""The one rule catalogue: every code's name, message, rationale, fix and examples.

The libcst checker, ``dbos-compile check``/``explain``, docs/rules.md, the mypy plugin and the
tests all read this table, so a rule's documentation and its behaviour cannot drift apart: the
examples are run by the catalogue tests and must be flagged (or not) exactly as stated. The
rules themselves are written in three files by family (``rules_values``, ``rules_effects``,
``rules_contract``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dbos_lint.catalogue import rules_contract, rules_effects, rules_values
from dbos_lint.catalogue.rule import Rule

_ALL = (*rules_values.RULES, *rules_effects.RULES, *rules_contract.RULES)

RULES: Mapping[str, Rule] = MappingProxyType(
    {r.code: r for r in sorted(_ALL, key=lambda r: r.code)}
)

__all__ = ["RULES", "Rule", "get_rule"]


def get_rule(code: str) -> Rule | None:
    return RULES.get(code.upper())
