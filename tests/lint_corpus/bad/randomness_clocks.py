"""Randomness, clocks and sleeping inside workflows, through several import styles."""

import asyncio
import datetime as dt
import os
import random
import secrets
import time
import uuid
from datetime import date, datetime
from random import choice as pick
from time import monotonic
from time import time as now
from uuid import uuid4

import dbos
from dbos import DBOS
from dbos import DBOS as D


@DBOS.workflow()
def randomness() -> None:
    a = random.randint(1, 6)  # expect: DBOS101
    b = pick([1, 2, 3])  # expect: DBOS101
    rng = random.Random()  # expect: DBOS101
    random.shuffle([a, b])  # expect: DBOS101
    sys_rng = random.SystemRandom()  # expect: DBOS102
    token = secrets.token_urlsafe()  # expect: DBOS102
    raw = os.urandom(8)  # expect: DBOS102
    u1 = uuid.uuid1()  # expect: DBOS103
    u4 = uuid4()  # expect: DBOS103
    print(rng, sys_rng, token, raw, u1, u4)


@D.workflow()
def clocks() -> float:
    t = time.time()  # expect: DBOS111
    t2 = now()  # expect: DBOS111
    n1 = datetime.now()  # expect: DBOS111
    n2 = dt.datetime.utcnow()  # expect: DBOS111
    d = date.today()  # expect: DBOS111
    local = time.localtime()  # expect: DBOS111
    m = monotonic()  # expect: DBOS112
    p = time.perf_counter_ns()  # expect: DBOS112
    print(n1, n2, d, local)
    return t + t2 + m + p


@dbos.DBOS.workflow
def blocking_sleep() -> None:
    time.sleep(1)  # expect: DBOS121


@dbos.DBOS.workflow()
async def async_sleep() -> None:
    await asyncio.sleep(1)  # expect: DBOS122
    await DBOS.sleep_async(1)
