"""Every family module of the catalogue, in code order: the one list that the rule table
(``catalogue.RULES``), the name tables (``names``, ``objects``) and the codes are built from."""

from __future__ import annotations

from dbos_lint.catalogue import (
    dbos000_syntax,
    dbos10x_randomness,
    dbos11x_clocks,
    dbos12x_sleeps,
    dbos30x_concurrency,
    dbos40x_shared_state,
    dbos50x_order_and_identity,
    dbos60x_signatures,
    dbos70x_api_misuse,
    dbos201_filesystem,
    dbos202_network,
    dbos203_database,
    dbos204_processes,
    dbos901_configured,
)
from dbos_lint.catalogue.rule import Family

FAMILIES: tuple[Family, ...] = (
    dbos000_syntax.FAMILY,
    dbos10x_randomness.FAMILY,
    dbos11x_clocks.FAMILY,
    dbos12x_sleeps.FAMILY,
    dbos201_filesystem.FAMILY,
    dbos202_network.FAMILY,
    dbos203_database.FAMILY,
    dbos204_processes.FAMILY,
    dbos30x_concurrency.FAMILY,
    dbos40x_shared_state.FAMILY,
    dbos50x_order_and_identity.FAMILY,
    dbos60x_signatures.FAMILY,
    dbos70x_api_misuse.FAMILY,
    dbos901_configured.FAMILY,
)
