"""Every rule code under the name the checks use, each defined once in its family module
(``COMPLETION_ORDER = "DBOS302"`` lives in ``dbos30x_concurrency`` with the rule's text and the
names it flags), so a typo is an ImportError rather than a silent mismatch."""

from __future__ import annotations

from dbos_lint.catalogue.dbos000_syntax import SYNTAX
from dbos_lint.catalogue.dbos10x_randomness import ENTROPY, RANDOM, UUID
from dbos_lint.catalogue.dbos11x_clocks import MONO_CLOCK, WALL_CLOCK
from dbos_lint.catalogue.dbos12x_sleeps import ASYNC_SLEEP, BLOCKING_SLEEP
from dbos_lint.catalogue.dbos30x_concurrency import COMPLETION_ORDER, THREADS
from dbos_lint.catalogue.dbos40x_shared_state import ENVIRONMENT, MODULE_STATE
from dbos_lint.catalogue.dbos50x_order_and_identity import IDENTITY_HASH, SET_ORDER
from dbos_lint.catalogue.dbos60x_signatures import GENERATOR, PARAM_TYPE, RETURN_TYPE
from dbos_lint.catalogue.dbos70x_api_misuse import (
    RECV_OUTSIDE,
    SQL_SESSION,
    SWALLOWED_UNWIND,
    WORKFLOW_IN_STEP,
)
from dbos_lint.catalogue.dbos201_filesystem import FILESYSTEM
from dbos_lint.catalogue.dbos202_network import NETWORK
from dbos_lint.catalogue.dbos203_database import DATABASE
from dbos_lint.catalogue.dbos204_processes import PROCESS
from dbos_lint.catalogue.dbos901_configured import CONFIGURED

__all__ = [
    "ASYNC_SLEEP",
    "BLOCKING_SLEEP",
    "COMPLETION_ORDER",
    "CONFIGURED",
    "DATABASE",
    "ENTROPY",
    "ENVIRONMENT",
    "FILESYSTEM",
    "GENERATOR",
    "IDENTITY_HASH",
    "MODULE_STATE",
    "MONO_CLOCK",
    "NETWORK",
    "PARAM_TYPE",
    "PROCESS",
    "RANDOM",
    "RECV_OUTSIDE",
    "RETURN_TYPE",
    "SET_ORDER",
    "SQL_SESSION",
    "SWALLOWED_UNWIND",
    "SYNTAX",
    "THREADS",
    "UUID",
    "WALL_CLOCK",
    "WORKFLOW_IN_STEP",
]
