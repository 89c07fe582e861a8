"""dbos_lint: the rule catalogue and the libcst determinism/serializability checker.

Imports only libcst and the standard library, never ``dbos``: checking a module must not run it.
"""

from dbos_lint.catalogue import RULES, Rule, get_rule
from dbos_lint.catalogue.finding import Finding
from dbos_lint.catalogue.settings import Settings
from dbos_lint.checks.file_check import check_module, check_source

__version__ = "0.1.0"

__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "Settings",
    "__version__",
    "check_module",
    "check_source",
    "get_rule",
]
