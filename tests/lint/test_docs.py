"""docs/rules.md is generated from the catalogue and must match it."""

from __future__ import annotations

from lint_support import REPO

from dbos_lint import RULES
from dbos_lint.catalogue.docs import render_markdown


def test_rules_md_matches_catalogue() -> None:
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    regenerate = "regenerate: python -m dbos_lint.catalogue.docs > docs/rules.md"
    assert text == render_markdown(), regenerate
    for code, rule in RULES.items():
        assert f"## {code} `{rule.name}`" in text
