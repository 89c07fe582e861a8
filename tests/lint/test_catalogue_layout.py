"""Each rule is findable from its code in one hop: its family module of the catalogue, named by
the code (``dbos30x_concurrency`` for DBOS302), holds the code, the text, the examples and every
name it flags; a module of the checks named by a code reports only codes of that range."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from lint_support import REPO

from dbos_lint.catalogue import RULES, codes
from dbos_lint.catalogue.families import FAMILIES
from dbos_lint.catalogue.rule import Family

PACKAGE = REPO / "lint_rules" / "dbos_lint"
_NAMED_BY_CODE = re.compile(r"dbos(\d\d[\dx])_\w+")


def _pattern(module_name: str) -> re.Pattern[str]:
    """``dbos30x_concurrency`` covers DBOS300-DBOS309; ``dbos201_filesystem`` only DBOS201."""
    match = _NAMED_BY_CODE.fullmatch(module_name)
    assert match, module_name
    return re.compile("DBOS" + match.group(1).replace("x", r"\d"))


def _family_modules() -> list[str]:
    found = [p.stem for p in (PACKAGE / "catalogue").glob("dbos*.py")]
    assert len(found) >= 10
    return sorted(found)


def _codes_in_tables(family: Family) -> set[str]:
    found = {*family.calls.values(), *family.modules.values(), *family.clients.values()}
    found |= {*family.methods.values(), *family.accesses.values()}
    return found | {code for _, code in family.seedable.values()}


@pytest.mark.parametrize("name", _family_modules())
def test_a_family_module_holds_the_codes_its_name_says_and_flags_only_with_them(
    name: str,
) -> None:
    module = importlib.import_module(f"dbos_lint.catalogue.{name}")
    family: Family = module.FAMILY
    own = {rule.code for rule in family.rules}
    assert own, name
    pattern = _pattern(name)
    assert all(pattern.fullmatch(code) for code in own), (name, own)
    # The constant naming each code is defined here, next to the rule's text.
    defined = {
        v for k, v in vars(module).items() if k.isupper() and isinstance(v, str) and v in own
    }
    assert defined == own, name
    assert _codes_in_tables(family) <= own, name


def test_every_rule_belongs_to_exactly_one_family_listed_once() -> None:
    modules = [importlib.import_module(f"dbos_lint.catalogue.{n}") for n in _family_modules()]
    assert sorted(id(m.FAMILY) for m in modules) == sorted(id(f) for f in FAMILIES)
    every = [rule.code for family in FAMILIES for rule in family.rules]
    assert sorted(every) == sorted(set(every)) == list(RULES)


def test_the_codes_namespace_is_the_catalogue() -> None:
    named = {getattr(codes, name) for name in codes.__all__}
    assert named == set(RULES)


def _reported_codes(path: Path) -> set[str]:
    """Codes a check module names (``codes.SET_ORDER``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        getattr(codes, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "codes"
    }


def _check_modules() -> list[Path]:
    found = sorted((PACKAGE / "checks").glob("dbos*.py"))
    assert found
    return found


@pytest.mark.parametrize("path", _check_modules(), ids=lambda p: p.stem)
def test_a_check_module_named_by_codes_reports_only_those(path: Path) -> None:
    reported = _reported_codes(path)
    assert reported, path.name
    pattern = _pattern(path.stem)
    assert all(pattern.fullmatch(code) for code in reported), (path.name, reported)
