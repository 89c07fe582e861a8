"""Steps may do anything: calling the same helpers from here is not flagged."""

import time

from dbos import DBOS

from .helpers import compute, reviewed


@DBOS.step()
def fetch_token() -> str:
    return str(time.time())


@DBOS.step()
def stamped() -> float:
    return compute(1) + reviewed()
