"""Workflows that reach nondeterminism through helpers of other modules of the project."""

import app.helpers
from dbos import DBOS

from . import helpers
from .cycle_a import ping
from .helpers import compute
from .helpers import read_config as load
from .steps import fetch_token, stamped
from .vendor_calls import call_api


@DBOS.workflow()
def relative_import() -> float:
    return compute(2)


@DBOS.workflow()
def alias_and_module_attribute() -> str:
    return load("settings.toml") + str(helpers.compute(3))


@DBOS.workflow()
def absolute_import() -> float:
    return app.helpers.jitter()


@DBOS.workflow()
def steps_are_exempt() -> str:
    return fetch_token() + str(stamped())


@DBOS.workflow()
def cycle() -> int:
    return ping(3)


@DBOS.workflow()
def third_party() -> str:
    return call_api("https://example.com")


def local_then_remote() -> float:
    return compute(1)


@DBOS.workflow()
def via_local_helper() -> float:
    return local_then_remote()
