"""MkDocs hooks: pages that show a file kept elsewhere in the repository, so it is never copied.

A line ``<!-- include: PATH -->`` in a page is replaced at build time by the text of ``PATH``
(relative to the repository root), its headings moved one level down. The performance page
shows ``benchmarks/README.md`` this way (the file ``benchmarks/run.py --publish`` rewrites), and
``benchmarks/chart.png`` is served beside it as ``chart.png``, the name that README links.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

REPO = Path(__file__).resolve().parent
_INCLUDE = re.compile(r"^<!-- include: (\S+) -->$", re.MULTILINE)
_HEADING = re.compile(r"^(#+) ", re.MULTILINE)
EXTRA_FILES = {"chart.png": REPO / "benchmarks" / "chart.png"}


def on_files(files: Files, config: Any, **_: Any) -> Files:
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
    return _INCLUDE.sub(_included, markdown)
