"""Transitive helpers, class workflows, lambdas, comprehensions, nested functions, imports."""

import random
import time as clock

from dbos import DBOS, DBOSConfiguredInstance


def leaf() -> float:
    return clock.time()  # expect: DBOS111


def middle() -> float:
    return leaf() + 1


def shadows(clock: float) -> float:
    return clock.time()


@DBOS.workflow()
def via_helpers() -> float:
    return middle() + shadows(1.0)


@DBOS.dbos_class()
class Worker(DBOSConfiguredInstance):
    def __init__(self) -> None:
        super().__init__(config_name="w")

    def jitter(self) -> float:
        return random.random()  # expect: DBOS101

    @DBOS.step()
    def safe(self) -> float:
        return random.random()

    @DBOS.workflow()
    def run(self) -> float:
        pause = lambda: clock.sleep(1)  # expect: DBOS121
        pause()
        values = [random.randint(0, i) for i in range(3)]  # expect: DBOS101

        def nested() -> float:
            from time import perf_counter

            return perf_counter()  # expect: DBOS112

        return self.jitter() + self.safe() + nested() + sum(values)


@DBOS.workflow()
def nested_step_is_exempt() -> float:
    @DBOS.step()
    def inner() -> float:
        return random.random()

    return inner()


@DBOS.workflow()
def suppressions() -> float:
    a = clock.time()  # dbos: ignore[DBOS111] reviewed: logged only
    b = clock.time()  # dbos: ignore
    c = clock.time()  # dbos: ignore[DBOS101]  # expect: DBOS111
    d = clock.time()  # noqa: DBOS111
    return a + b + c + d
