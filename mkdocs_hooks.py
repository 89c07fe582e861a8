"""MkDocs hooks: pages made at build time from what the repository keeps elsewhere, so nothing
is copied and nothing can drift.

Rules: one page per checker rule (``rules/DBOS101.md``...), rendered from the catalogue
(``dbos_lint.catalogue``) as ``dbos-compile explain`` is, and listed under the nav's "Rules"
entry. ``docs/rules.md`` (generated from the same catalogue, and what SARIF output links to)
becomes on the site the index of those pages: its introduction and its table, each code a link.

Includes: a line ``<!-- include: PATH -->`` in a page is replaced at build time by the text of
``PATH`` (relative to the repository root), its headings moved one level down. The performance page
shows ``benchmarks/README.md`` this way (the file ``benchmarks/run.py --publish`` rewrites), and
``benchmarks/chart.png`` is served beside it as ``chart.png``, the name that README links.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from dbos_lint.catalogue import RULES
from dbos_lint.catalogue.docs import rule_page

REPO = Path(__file__).resolve().parent
_INCLUDE = re.compile(r"^<!-- include: (\S+) -->$", re.MULTILINE)
_HEADING = re.compile(r"^(#+) ", re.MULTILINE)
EXTRA_FILES = {"chart.png": REPO / "benchmarks" / "chart.png"}


RULES_INDEX = "rules.md"
_RULE_ROW = re.compile(r"^\| (DBOS\d+) \|", re.MULTILINE)


def _rule_uri(code: str) -> str:
    return f"rules/{code}.md"


def on_config(config: Any, **_: Any) -> Any:
    """The nav's ``rules.md`` entry becomes a section: the index, then one page per rule."""

    def expand(items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            if isinstance(item, dict):
                ((title, value),) = item.items()
                if value == RULES_INDEX:
                    pages = [{f"{r.code} {r.name}": _rule_uri(r.code)} for r in RULES.values()]
                    out.append({title: [{"All rules": RULES_INDEX}, *pages]})
                    continue
                if isinstance(value, list):
                    item = {title: expand(value)}
            out.append(item)
        return out

    config["nav"] = expand(config["nav"])
    return config


def on_files(files: Files, config: Any, **_: Any) -> Files:
    for rule in RULES.values():
        files.append(File.generated(config, _rule_uri(rule.code), content=rule_page(rule)))
    for dest, source in EXTRA_FILES.items():
        files.append(
            File(
                dest,
                src_dir=str(source.parent),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


def _included(match: re.Match[str]) -> str:
    text = (REPO / match.group(1)).read_text(encoding="utf-8")
    return _HEADING.sub(lambda heading: "#" + heading.group(1) + " ", text)


def on_page_markdown(markdown: str, page: Page, **_: Any) -> str:
    if page.file.src_uri == RULES_INDEX:
        index = markdown[: markdown.index("\n## DBOS")]
        return _RULE_ROW.sub(lambda row: f"| [{row.group(1)}]({_rule_uri(row.group(1))}) |", index)
    return _INCLUDE.sub(_included, markdown)
