"""dbos_lint: the rule catalogue, the libcst determinism/serializability checker and the mypy
plugin (``plugins = ["dbos_lint.mypy_plugin"]``).

Imports only libcst and the standard library, never ``dbos``: checking a module must not run it.
Importing ``dbos_lint`` loads nothing else; each name below is imported on first use, so the
mypy plugin, which needs the catalogue only, never loads libcst or the checker.

The public API, the names front ends (``dbos-compile``, editors, other tools) may import; the
modules behind them are internal and may move:

* the catalogue: ``RULES`` (code -> :class:`Rule`), ``get_rule``, ``explain`` (a rule's
  documentation as text), ``Finding`` (one diagnostic), ``Settings`` (``extra-forbidden`` and
  ``extra-allowed``);
* checking: ``check_source`` (one module, its helpers across the project followed given a
  ``Project``), ``check_module`` (an already-parsed module), ``new_project``, ``Project`` and
  ``ProjectTrace`` (what a check found in, and read from, other files of the project: the
  result cache keeps it);
* what a module declares: ``ModuleDeclarations`` (which functions are durable, and what an
  expression names, as the checker sees it) and ``DurableFunction``; the code generator asks
  these, so generator and checker agree on what is durable.

Inside, the package has three rooms, each importing only the ones before it: ``catalogue``
(the rules and name tables: data), ``analysis`` (the interpreter), ``checks`` (the rules
applied); then the front ends (this file, ``mypy_plugin``, ``dbos_compile``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbos_lint.analysis.declarations import DurableFunction, ModuleDeclarations
    from dbos_lint.analysis.project import Project, ProjectTrace
    from dbos_lint.catalogue import RULES, Rule, get_rule
    from dbos_lint.catalogue.docs import explain
    from dbos_lint.catalogue.finding import Finding
    from dbos_lint.catalogue.settings import Settings
    from dbos_lint.checks.file_check import check_module, check_source, new_project

__version__ = "0.1.0"

#: Public name -> the module that defines it (imported on first use).
_EXPORTS = {
    "RULES": "dbos_lint.catalogue",
    "Rule": "dbos_lint.catalogue",
    "get_rule": "dbos_lint.catalogue",
    "explain": "dbos_lint.catalogue.docs",
    "Finding": "dbos_lint.catalogue.finding",
    "Settings": "dbos_lint.catalogue.settings",
    "check_source": "dbos_lint.checks.file_check",
    "check_module": "dbos_lint.checks.file_check",
    "new_project": "dbos_lint.checks.file_check",
    "Project": "dbos_lint.analysis.project",
    "ProjectTrace": "dbos_lint.analysis.project",
    "ModuleDeclarations": "dbos_lint.analysis.declarations",
    "DurableFunction": "dbos_lint.analysis.declarations",
}

__all__ = [
    "RULES",
    "DurableFunction",
    "Finding",
    "ModuleDeclarations",
    "Project",
    "ProjectTrace",
    "Rule",
    "Settings",
    "__version__",
    "check_module",
    "check_source",
    "explain",
    "get_rule",
    "new_project",
]


def __getattr__(name: str) -> Any:
    """PEP 562: load a public name's module the first time the name is read."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dbos_lint' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
