"""Line suppressions: ``# dbos: ignore[CODES] reason``, ``# noqa: CODE``, ``# type: ignore[CODE]``.

Comments are read with ``tokenize`` rather than a regex over raw lines so that a ``#`` inside a
string literal never suppresses anything. A bare ``# dbos: ignore`` silences every code on its
line; ``# noqa`` only counts when it names one of our codes, so ruff/flake8 users keep control of
their own blanket ``noqa``; ``# type: ignore[DBOS111]`` works too, so one comment silences both the
checker and the mypy plugin.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Mapping

_DBOS_IGNORE = re.compile(r"#\s*dbos:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_NOQA = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)
_TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore\[(?P<codes>[^\]]*)\]")

#: line -> codes suppressed on that line; ``None`` means every code.
Suppressions = Mapping[int, "frozenset[str] | None"]


def _codes(text: str) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in re.split(r"[\s,]+", text) if c.strip())


def _comments(source: bytes) -> Iterable[tuple[int, str]]:
    try:
        for tok in tokenize.tokenize(io.BytesIO(source).readline):
            if tok.type == tokenize.COMMENT:
                yield tok.start[0], tok.string
    except (tokenize.TokenError, SyntaxError):
        # Source libcst accepted but tokenize did not (rare): fall back to a per-line scan.
        for number, line in enumerate(source.decode("utf-8", "replace").splitlines(), 1):
            if "#" in line:
                yield number, line[line.index("#") :]


#: Any comment that could silence one of our codes; a file without one is not tokenized.
_CANDIDATE = re.compile(
    rb"dbos:\s*ignore|noqa:[^\n]*DBOS|type:\s*ignore\[[^\]\n]*DBOS", re.IGNORECASE
)


def parse_suppressions(source: bytes) -> dict[int, frozenset[str] | None]:
    found: dict[int, frozenset[str] | None] = {}
    if not _CANDIDATE.search(source):
        return found
    for line, comment in _comments(source):
        match = _DBOS_IGNORE.search(comment)
        if match:
            codes = match.group("codes")
            found[line] = None if codes is None or not codes.strip() else _codes(codes)
            continue
        codes = _foreign_codes(comment)
        if codes:
            found[line] = codes
    return found


def _foreign_codes(comment: str) -> frozenset[str]:
    """Our codes named in ``# noqa: ...`` or ``# type: ignore[...]`` (one comment, two tools)."""
    ours: set[str] = set()
    for pattern in (_NOQA, _TYPE_IGNORE):
        match = pattern.search(comment)
        if match:
            ours |= {c for c in _codes(match.group("codes")) if c.startswith("DBOS")}
    return frozenset(ours)


def line_suppresses(line: str, code: str) -> bool:
    """Whether one source line's comment silences ``code`` (used where only a line is at hand,
    e.g. the mypy plugin). Regex-based: a ``#`` inside a string could fool it, a harmless miss."""
    if "#" not in line:
        return False
    comment = line[line.index("#") :]
    match = _DBOS_IGNORE.search(comment)
    if match:
        codes = match.group("codes")
        return codes is None or not codes.strip() or any(code.startswith(c) for c in _codes(codes))
    return any(code.startswith(c) for c in _foreign_codes(comment))


def is_suppressed(suppressions: Suppressions, line: int, code: str) -> bool:
    if line not in suppressions:
        return False
    codes = suppressions[line]
    return codes is None or any(code.startswith(c) for c in codes)
