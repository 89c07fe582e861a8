"""Rule documentation rendered from the catalogue (``explain`` text and docs/rules.md).

docs/rules.md is generated, not hand-written, so it cannot drift from the catalogue; a test
compares the file with ``render_markdown()``. Regenerate with
``python -m dbos_lint.catalogue.docs > docs/rules.md``.
"""

from __future__ import annotations

import sys

from dbos_lint.catalogue import RULES, Rule


def _indent(code: str) -> str:
    return "".join(f"    {line}\n" if line else "\n" for line in code.rstrip("\n").split("\n"))


def explain(rule: Rule) -> str:
    """Plain-text documentation of one rule, for ``dbos-compile explain CODE``."""
    parts = [
        f"{rule.code} {rule.name} ({rule.severity})",
        "",
        rule.summary,
        "",
        "Why it breaks recovery:",
        f"  {rule.why}",
        "",
        "How to fix:",
        f"  {rule.fix}",
    ]
    if rule.example_forbidden:
        parts += ["", f"Examples assume extra-forbidden = {list(rule.example_forbidden)}"]
    for title, examples in (("Flagged", rule.flagged), ("Not flagged", rule.not_flagged)):
        for number, example in enumerate(examples, 1):
            parts += ["", f"{title} example {number}:", _indent(example).rstrip("\n")]
    return "\n".join(parts) + "\n"


def _markdown_rule(rule: Rule) -> str:
    lines = [
        f"## {rule.code} `{rule.name}`",
        "",
        rule.summary,
        "",
        f"**Why it breaks recovery.** {rule.why}",
        "",
        f"**How to fix.** {rule.fix}",
        "",
    ]
    if rule.example_forbidden:
        lines += [f"Examples assume `extra-forbidden = {list(rule.example_forbidden)}`.", ""]
    for title, examples in (("Flagged", rule.flagged), ("Not flagged", rule.not_flagged)):
        for example in examples:
            lines += [f"{title}:", "", "```python", example.rstrip("\n"), "```", ""]
    return "\n".join(lines)


def rule_page(rule: Rule) -> str:
    """One rule as a page of its own (the docs site's ``rules/CODE`` page, one per rule as
    ruff's site has): its docs/rules.md section, under a page title."""
    return "# " + _markdown_rule(rule).removeprefix("## ")


def render_markdown() -> str:
    header = [
        "# dbos-compile rules",
        "",
        "<!-- Generated from lint_rules/dbos_lint/catalogue/ by"
        " `python -m dbos_lint.catalogue.docs`; do not edit. -->",
        "",
        "Suppress one line with `# dbos: ignore[CODE] reason` (bare `# dbos: ignore` silences"
        " every code on the line). Select or ignore codes by prefix with `--select` /"
        " `--ignore`.",
        "",
        "Configure in `pyproject.toml` (the nearest one above the current directory or the"
        " checked paths):",
        "",
        "```toml",
        "[tool.dbos-compile]",
        'extra-forbidden = ["myapp.flags.is_enabled"]  # flagged in workflows as DBOS901',
        'extra-allowed = ["sqlite3"]                   # never flagged (name or whole module)',
        'exclude = ["generated/*", "scripts"]          # glob paths, relative to pyproject.toml',
        'select = ["DBOS"]                             # code prefixes; --select/--ignore win',
        'ignore = ["DBOS502"]',
        "```",
        "",
        "Use it from pre-commit with the `dbos-compile-check` hook of this repository.",
        "",
        "The call-based rules are also reported by the mypy plugin"
        ' (`[tool.mypy] plugins = ["dbos_lint.mypy_plugin"]`) with the same codes;'
        " `# type: ignore[CODE]` silences both tools.",
        "",
        "| Code | Name | Summary |",
        "|---|---|---|",
        *(f"| {r.code} | `{r.name}` | {r.summary} |" for r in RULES.values()),
        "",
    ]
    return "\n".join(header) + "\n".join(_markdown_rule(r) for r in RULES.values())


if __name__ == "__main__":  # pragma: no cover - thin entry point
    sys.stdout.write(render_markdown())
