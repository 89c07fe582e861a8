"""The runtime's import order, as DESIGN.md gives it, by subpackage: an import points down only.

"May I import X here?" has one answer: the layer table below. Every import counts, also those
inside functions, under ``TYPE_CHECKING`` and module names spelled as strings for a lazy import
(``support.import_graph`` reads them all), so no circle hides behind a function-level import.
A new subpackage, or a new module at the top of the package, must be given a layer here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.import_graph import Import, circles, modules_under, project_imports

RUNTIME = Path(__file__).resolve().parents[1] / "runtime" / "dbos"

#: DESIGN.md's order, lowest first. A unit (a subpackage, or a module at the top of ``dbos``)
#: imports only units of its own layer or of layers below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "_clock",
        "_error",
        "_status",
        "_storable_text",
        "_threads",
        "_serialization",
        "_config",
    ),  # leaves
    ("_db",),  # the system and application databases
    ("_registry",),  # stable names
    ("_core",),  # the checkpoint core
    ("_services",),  # started by launch()
    ("_facade", "_compiled"),  # the public API; what generated code calls
    ("__init__", "_dbos", "error"),  # the names users import
    ("_admin", "_dashboard", "testing", "_cli", "__main__"),  # front ends
)
LAYER_OF = {unit: number for number, units in enumerate(LAYERS) for unit in units}
SHARED_LEAVES = set(LAYERS[0])

MODULES = modules_under({"dbos": RUNTIME})
# A lazily imported module is spelled in full ("dbos._cli.main"); the bare "dbos" is the
# logger's name far more often than an import.
IMPORTS = project_imports(MODULES, re.compile(r"dbos(?:\.\w+)+"))


def unit_of(module: str) -> str:
    """``dbos._core.checkpoint`` -> ``_core``; the package itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward(imports: list[Import]) -> list[str]:
    return [
        f"{i.source} (line {i.line}) imports {i.target}"
        for i in imports
        if LAYER_OF[unit_of(i.target)] > LAYER_OF[unit_of(i.source)]
    ]


def imported_units(unit: str) -> set[str]:
    return {
        unit_of(i.target)
        for i in IMPORTS
        if unit_of(i.source) == unit and unit_of(i.target) != unit
    }


def test_the_reader_sees_every_kind_of_import() -> None:
    """The checks below are only as good as the reader: function-level, TYPE_CHECKING,
    relative and absolute imports are all found."""
    edges = {(i.source, i.target) for i in IMPORTS}
    assert ("dbos._facade.decorators", "dbos._core.transactions") in edges  # in a function
    assert ("dbos._facade.decorators", "dbos._db.async_application") in edges  # TYPE_CHECKING
    assert ("dbos._compiled", "dbos._compiled.calls") in edges  # relative, a package's own
    assert ("dbos.__main__", "dbos._cli.main") in edges
    assert ("dbos.testing.pytest_plugin", "dbos") in edges  # absolute, the public package
    assert len(MODULES) > 150


def test_every_unit_of_the_runtime_has_a_layer() -> None:
    units = {unit_of(module) for module in MODULES}
    assert sorted(units - set(LAYER_OF)) == []
    assert sorted(set(LAYER_OF) - units) == []  # the table names nothing that is gone


def test_imports_point_down_the_layers() -> None:
    assert upward(IMPORTS) == []


def test_an_upward_import_is_reported() -> None:
    """The check can fail: the circle this order ended (the registry calling the core)."""
    wrong = Import("dbos._registry.registry", "dbos._core.checkpoint", ("run_step",), 7)
    assert upward([wrong]) == ["dbos._registry.registry (line 7) imports dbos._core.checkpoint"]


def test_there_is_no_circle_between_subpackages() -> None:
    assert circles((unit_of(i.source), unit_of(i.target)) for i in IMPORTS) == []


def test_there_is_no_circle_between_modules() -> None:
    assert circles((i.source, i.target) for i in IMPORTS) == []


def test_the_registry_is_a_leaf_of_names() -> None:
    """The decorators that fill the registry live in the facade; the registry itself needs
    nothing of the runtime but the shared leaves."""
    assert imported_units("_registry") <= SHARED_LEAVES


@pytest.mark.parametrize("unit", ["_compiled"])
def test_generated_code_reaches_only_the_core_and_the_registry(unit: str) -> None:
    """What ``dbos-compile`` output calls stands beside the facade, not on it: a compiled
    module's durable calls go straight to the checkpoint core."""
    assert imported_units(unit) <= {"_core", "_registry"} | SHARED_LEAVES
