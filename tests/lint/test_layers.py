"""The linter's layer order, as DESIGN.md gives it: catalogue <- analysis <- checks <- front
ends (the public ``dbos_lint`` package, the mypy plugin, ``dbos_compile``).

Every import counts, also those inside functions, under ``TYPE_CHECKING`` and the module names
a lazy import spells as a string (``support.import_graph`` reads them; the runtime's order is
``tests/test_runtime_layers.py``). The compiler uses only the names ``dbos_lint`` exports, and the
two entry points that must stay light (``import dbos_lint``, the mypy plugin) are checked by
what they load.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
from lint_support import REPO
from support.import_graph import circles, modules_under, project_imports

import dbos_lint

ROOTS = {
    "dbos_lint": REPO / "lint_rules" / "dbos_lint",
    "dbos_compile": REPO / "compiler" / "dbos_compile",
}
#: The rooms of dbos_lint, lowest first; everything else is a front end.
ROOMS = ("catalogue", "analysis", "checks")
FRONT = len(ROOMS)
_DOTTED = re.compile(r"dbos_(?:lint|compile)(?:\.\w+)*")


MODULES = modules_under(ROOTS)
IMPORTS = project_imports(MODULES, _DOTTED)


def _layer(module: str) -> int:
    parts = module.split(".")
    if parts[0] == "dbos_lint" and len(parts) > 1 and parts[1] in ROOMS:
        return ROOMS.index(parts[1])
    return FRONT


def test_the_reader_sees_every_kind_of_import() -> None:
    """The graph below is only as good as the reader: function-level and TYPE_CHECKING imports,
    relative ones and the lazy package's string names are all found."""
    edges = {(i.source, i.target) for i in IMPORTS}
    assert ("dbos_lint", "dbos_lint.checks.file_check") in edges  # lazy, by string
    assert ("dbos_compile.codegen.render", "dbos_compile.codegen.analysis") in edges  # relative
    assert ("dbos_compile.cli", "dbos_compile.build") in edges
    assert ("dbos_lint.analysis.values", "dbos_lint.analysis.parsed_module") in edges  # typing
    assert len(MODULES) > 60


def test_imports_point_down_the_rooms_of_the_linter() -> None:
    """catalogue <- analysis <- checks <- front ends: a room imports only rooms below it (and
    itself), never the package's front door, whose lazy names stand above every room."""
    upward = [
        f"{i.source} (line {i.line}) imports {i.target}"
        for i in IMPORTS
        if _layer(i.target) > _layer(i.source)
    ]
    assert upward == []


def test_the_catalogue_imports_nothing_else_of_the_linter() -> None:
    outside = [
        f"{i.source} imports {i.target}"
        for i in IMPORTS
        if i.source.startswith("dbos_lint.catalogue")
        and not i.target.startswith("dbos_lint.catalogue")
    ]
    assert outside == []


def test_the_compiler_uses_only_the_names_the_linter_exports() -> None:
    exported = set(dbos_lint.__all__)
    misuse = [
        f"{i.source} (line {i.line}): {i.target} {list(i.names)}"
        for i in IMPORTS
        if i.source.startswith("dbos_compile")
        and i.target.startswith("dbos_lint")
        and (i.target != "dbos_lint" or not set(i.names) <= exported)
    ]
    assert misuse == []
    # ``import dbos_lint`` then ``dbos_lint.<name>``: only exported names and module metadata.
    allowed = exported | {"__file__", "__version__"}
    for module, path in MODULES.items():
        if not module.startswith("dbos_compile"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "dbos_lint":
                    assert node.attr in allowed, f"{module}: dbos_lint.{node.attr}"


def test_there_is_no_import_circle_in_the_linter_or_the_compiler() -> None:
    assert circles((i.source, i.target) for i in IMPORTS) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert circles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]


def _loaded_after(statement: str) -> list[str]:
    """The project and libcst modules a fresh interpreter has loaded after ``statement``."""
    probe = (
        f"import sys\n{statement}\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dbos_lint', 'dbos_compile', 'libcst'))))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return ran.stdout.split()


def test_importing_the_package_loads_nothing_else() -> None:
    assert _loaded_after("import dbos_lint") == ["dbos_lint"]


def test_the_mypy_plugin_loads_neither_libcst_nor_the_checker() -> None:
    """mypy imports the plugin on every run: it needs the catalogue (codes, messages, name
    tables) and the suppression comments, nothing of the interpreter or the checks."""
    loaded = _loaded_after("import dbos_lint.mypy_plugin")
    assert "dbos_lint.mypy_plugin" in loaded
    needed = {"dbos_lint", "dbos_lint.mypy_plugin", "dbos_lint.mypy_signatures"}
    needed |= {"dbos_lint.analysis", "dbos_lint.analysis.suppressions"}
    extra = [m for m in loaded if m not in needed and not m.startswith("dbos_lint.catalogue")]
    assert extra == []


@pytest.mark.parametrize("name", dbos_lint.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(dbos_lint, name) is not None
    assert name in dir(dbos_lint)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'check_sources'"):
        _ = dbos_lint.check_sources  # type: ignore[attr-defined]
