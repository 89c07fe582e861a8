"""One generated module's text: header (jinja2), the user's code rewritten in place, and the
relocation call at the end.

Templates hold only boilerplate, never user code. The import guard must follow the module's
docstring and ``from __future__`` imports, so it is appended on the line of the last of them
(``; `` joins simple statements without adding a line); a module without either gets it as
one more header line. Either way the number of lines above the user's first line is known and
handed to the runtime, which moves the functions' code back by that much.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import jinja2
import libcst as cst

from .analysis import read_facts
from .manifest import fingerprint
from .rewrite import Rewritten, rewrite
from .shape import module_shapes

#: Must equal ``dbos._compiled.ABI`` of the runtime the output is meant for.
ABI = 1


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dbos_compile.codegen", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["py"] = repr
    return env


def _render(name: str, **values: object) -> str:
    return _environment().get_template(name).render(**values)


@dataclass(frozen=True)
class Generated:
    text: str
    rewritten: Rewritten


def source_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_prelude(statement: cst.BaseStatement, first: bool) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.ImportFrom):
        return isinstance(small.module, cst.Name) and small.module.value == "__future__"
    return first and isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)


def _with_guard(module: cst.Module, guard: str) -> cst.Module | None:
    """``module`` with ``guard`` appended to its last prelude line; None if it has none."""
    last = -1
    for index, statement in enumerate(module.body):
        if not _is_prelude(statement, first=index == 0):
            break
        last = index
    if last < 0:
        return None
    line = module.body[last]
    assert isinstance(line, cst.SimpleStatementLine)
    extra = cst.parse_statement(guard)
    assert isinstance(extra, cst.SimpleStatementLine)
    body = [*line.body[:-1], line.body[-1].with_changes(semicolon=cst.Semicolon(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(" ")
    )), *extra.body]  # fmt: skip
    return module.with_changes(body=[*module.body[:last], line.with_changes(body=body),
                                     *module.body[last + 1:]])  # fmt: skip


def generate(source: bytes, display: str, source_from_here: str) -> Generated | None:
    """The generated text for a module with DBOS-decorated functions; None for any other.

    ``display`` names the source in the header (a path relative to SRC); ``source_from_here``
    is the source's path relative to the generated file's folder, checked at import."""
    module = cst.parse_module(source)
    facts = read_facts(module)
    if not facts.has_durable:
        return None
    prints = {name: fingerprint(name, shape) for name, shape in module_shapes(source).items()}
    updated, report = rewrite(module, facts, prints)
    sha = source_hash(source)
    common = {"abi": ABI, "source": display, "sha256": sha, "source_from_here": source_from_here}
    comment_lines = _render("header.jinja", guard_in_header=False, guard="", **common)
    header_lines = comment_lines.count("\n")
    guard = _render("guard.jinja", header_lines=header_lines, **common).rstrip("\n")
    placed = _with_guard(updated, guard)
    if placed is None:
        header_lines += 1
        guard = _render("guard.jinja", header_lines=header_lines, **common).rstrip("\n")
        header = _render("header.jinja", guard_in_header=True, guard=guard, **common)
        placed = updated
    else:
        header = comment_lines
    code = placed.code
    if code and not code.endswith("\n"):
        code += "\n"
    return Generated(header + code + _render("footer.jinja", **common), report)
