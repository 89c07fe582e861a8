"""DBOS000: a file that does not parse.

Detected by ``checks/file_check.py``: libcst refuses the file; the position and reason are
CPython's own when it agrees the file is broken.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule

SYNTAX = "DBOS000"

RULES: tuple[Rule, ...] = (
    Rule(
        code=SYNTAX,
        name="syntax-error",
        summary="The file could not be parsed, so none of its workflows were checked.",
        message="syntax error: {name}",
        why="A file that does not parse cannot be analysed; reporting it keeps a broken file "
        "from silently passing the check.",
        fix="Fix the syntax error (run `python -m py_compile FILE` for the interpreter's view).",
        flagged=("def broken(:\n    pass\n",),
        not_flagged=("def fine() -> None:\n    pass\n",),
    ),
)

FAMILY = Family(
    rules=RULES,
)
