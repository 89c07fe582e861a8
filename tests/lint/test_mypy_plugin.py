"""The mypy plugin reports the catalogue's call-based rules with the same codes and messages.

mypy runs in a subprocess on a temporary project with a tiny ``dbos`` stub, so the test does not
depend on the runtime package (built in parallel) type-checking cleanly.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from lint_support import expected_findings

from dbos_lint import check_source

STUB = """\
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

class DBOS:
    @staticmethod
    def workflow(**kw: Any) -> Callable[[F], F]: ...
    @staticmethod
    def step(**kw: Any) -> Callable[[F], F]: ...
    @staticmethod
    def transaction(**kw: Any) -> Callable[[F], F]: ...
"""

SAMPLE = """\
import asyncio
import datetime
import sqlite3
import os
import random
import time
import uuid
from time import time as now

from dbos import DBOS
from dbos import DBOS as D


@DBOS.workflow()
def wf() -> float:
    a = time.time()  # expect: DBOS111
    b = now()  # expect: DBOS111
    c = datetime.datetime.now().timestamp()  # expect: DBOS111
    u = uuid.uuid4()  # expect: DBOS103
    r = random.Random()  # expect: DBOS101
    seeded = random.Random(42)
    sysr = random.SystemRandom()  # expect: DBOS102
    e = os.environ.get("X")  # expect: DBOS401
    f = (lambda: time.monotonic())()  # expect: DBOS112

    def inner() -> None:
        time.sleep(1)  # expect: DBOS121

    inner()
    x = time.time()  # dbos: ignore[DBOS111] logged only
    print(u, r, sysr, e, seeded, x, open("f"))  # expect: DBOS201
    return a + b + c + f + hash("x")  # expect: DBOS502


@D.step()
def st() -> float:
    return time.time() + random.random()


@DBOS.transaction()
def tx() -> float:
    return time.time()


def plain() -> float:
    return time.time()


class C:
    @DBOS.workflow()
    async def m(self) -> None:
        await asyncio.sleep(1)  # expect: DBOS122
        if self:
            print(random.randint(1, 2))  # expect: DBOS101


class Store:
    def __init__(self) -> None:
        self.db = sqlite3.connect("app.db")

    @DBOS.workflow()
    def run(self, tags: set[str], names: list[str]) -> str:
        self.db.execute("select 1")  # expect: DBOS203
        loop = asyncio.get_event_loop()
        started = loop.time()  # expect: DBOS112
        joined = ",".join(tags)  # expect: DBOS501
        first = tags.pop()  # expect: DBOS501
        for i, name in enumerate(tags):  # expect: DBOS501
            print(i, name)
        fine = ",".join(names) + ",".join(sorted(tags))
        return f"{started}{joined}{first}{fine}{list(enumerate(names))}"

    @DBOS.step()
    def load(self) -> None:
        self.db.execute("select 1")
"""

_LINE = re.compile(r"^sample\.py:(\d+): error: .*\[(DBOS\d{3})\]$")


def test_plugin_reports_catalogue_codes_in_workflows_only(tmp_path: Path) -> None:
    (tmp_path / "dbos").mkdir()
    (tmp_path / "dbos" / "__init__.pyi").write_text(STUB)
    (tmp_path / "sample.py").write_text(SAMPLE)
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = dbos_lint.mypy_plugin\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental",
         "sample.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    found = set()
    for line in result.stdout.splitlines():
        match = _LINE.match(line)
        if match:
            found.add(("sample.py", int(match.group(1)), match.group(2)))
    assert result.returncode == 1, result.stdout + result.stderr
    assert found == expected_findings(tmp_path), result.stdout

    # Same catalogue, same codes: the libcst checker agrees on every line the plugin reports.
    libcst_found = {("sample.py", f.line, f.code) for f in check_source(SAMPLE)}
    assert found <= libcst_found
