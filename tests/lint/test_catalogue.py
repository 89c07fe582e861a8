"""The catalogue's own tests: every rule is documented and its examples behave as stated."""

from __future__ import annotations

import re

import pytest

from dbos_lint import RULES, Rule, Settings, check_source


def _cases(kind: str) -> list[tuple[Rule, int, str]]:
    return [
        (rule, i, example)
        for rule in RULES.values()
        for i, example in enumerate(rule.flagged if kind == "flagged" else rule.not_flagged, 1)
    ]


def _settings(rule: Rule) -> Settings:
    return Settings(extra_forbidden=frozenset(rule.example_forbidden))


def _id(case: tuple[Rule, int, str]) -> str:
    return f"{case[0].code}-{case[1]}"


@pytest.mark.parametrize("case", _cases("flagged"), ids=_id)
def test_flagged_example_reports_exactly_its_rule(case: tuple[Rule, int, str]) -> None:
    rule, _, example = case
    codes = {f.code for f in check_source(example, _settings(rule))}
    assert codes == {rule.code}


@pytest.mark.parametrize("case", _cases("not_flagged"), ids=_id)
def test_not_flagged_example_is_clean(case: tuple[Rule, int, str]) -> None:
    rule, _, example = case
    assert check_source(example, _settings(rule)) == []


@pytest.mark.parametrize("rule", list(RULES.values()), ids=lambda r: r.code)
def test_rule_is_documented(rule: Rule) -> None:
    assert re.fullmatch(r"DBOS\d{3}", rule.code)
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)
    assert "{name}" in rule.message
    for text in (rule.summary, rule.why, rule.fix):
        assert len(text) > 20
    assert rule.flagged, "every rule needs an example that must be flagged"
    assert rule.not_flagged, "every rule needs an example that must not be flagged"


def test_codes_and_names_are_unique() -> None:
    assert len({r.name for r in RULES.values()}) == len(RULES)
    assert list(RULES) == sorted(RULES)


def test_families_required_by_the_issue_are_present() -> None:
    names = " ".join(r.name for r in RULES.values())
    for family in (
        "random", "entropy", "uuid", "wall-clock", "sleep", "filesystem", "network",
        "database", "subprocess", "threads", "host-state", "set-iteration", "hash-or-id",
        "unserializable-parameter", "unserializable-return", "sql-session", "recv",
        "workflow-started-in-step",
    ):  # fmt: skip
        assert family in names
