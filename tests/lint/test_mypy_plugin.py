"""The mypy plugin reports the catalogue's rules with the same codes and messages.

Real mypy runs in a subprocess, in a venv where this repository is installed as a user installs
it (``pip install .``, see ``installed.py``), with ``plugins = dbos_lint.mypy_plugin`` in
``mypy.ini``; on the newest and on the oldest mypy the project supports. Lines marked
``# expect: CODE`` are found by both tools; lines marked ``# expect-mypy: CODE`` only by the
plugin (what only types can see), which the test checks the libcst checker misses.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import installed
from installed import mypy_version, run_mypy
from lint_support import expected_findings

from dbos_lint import check_source

# Session fixtures shared with the other modules that run mypy (see installed.py).
installed_python = installed.installed_python
mypy_python = installed.mypy_python
oldest_mypy_python = installed.oldest_mypy_python

SAMPLE = """\
import asyncio
import datetime
import pathlib
import socket
import sqlite3
import os
import random
import ssl
import time
import uuid
from time import time as now
from typing import TypeAlias

import aiohttp

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
    return float(a + b + c + f) + float(hash("x"))  # expect: DBOS502


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


Sock: TypeAlias = socket.socket
GENERATORS: dict[str, random.Random] = {"a": random.Random(1)}


class Conn(socket.socket):
    pass


@DBOS.workflow()
def typed_values(paths: list[pathlib.Path], name: str) -> str:
    text = ""
    for p in paths:
        text += p.read_text()  # expect-mypy: DBOS201
    draw = GENERATORS[name].random()  # expect-mypy: DBOS101
    own = random.Random(7)
    return text + str(draw + own.random())


@DBOS.workflow()
async def fetch_all(sessions: dict[str, aiohttp.ClientSession]) -> None:  # expect: DBOS601
    for session in sessions.values():
        await session.get("https://example.com")  # expect-mypy: DBOS202


@DBOS.workflow()
def takes_alias(conn: Sock) -> None:  # expect: DBOS601
    pass


@DBOS.step()
def takes_subclasses(own: Conn, tls: ssl.SSLContext) -> None:  # expect-mypy: DBOS601
    pass


@DBOS.workflow()
def returns_socket() -> Conn:  # expect-mypy: DBOS602
    return Conn()


@DBOS.workflow()
def swallows(n: int) -> int:
    try:
        DBOS.sleep(n)
    except:  # expect: DBOS704
        n = 0
    for _ in range(2):
        try:
            DBOS.sleep(n)
        except (KeyError, BaseException) as exc:  # expect: DBOS704
            print(exc)
    try:
        DBOS.sleep(n)
    except BaseException as exc:
        raise exc
    try:
        DBOS.sleep(n)
    except BaseException:
        raise
    return n


@DBOS.step()
def cleans_up() -> None:
    try:
        print("work")
    except BaseException:
        pass
"""

_LINE = re.compile(r"^sample\.py:(\d+): error: .*\[(DBOS\d{3})\]$")
_MYPY_ONLY = re.compile(r"#\s*expect-mypy:\s*(DBOS\d{3})")


def _mypy_only(source: str) -> set[tuple[str, int, str]]:
    return {
        ("sample.py", number, match.group(1))
        for number, line in enumerate(source.splitlines(), 1)
        if (match := _MYPY_ONLY.search(line))
    }


def test_plugin_reports_catalogue_codes_in_workflows_only(
    mypy_python: Path, tmp_path: Path
) -> None:
    (tmp_path / "sample.py").write_text(SAMPLE)
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = dbos_lint.mypy_plugin\n")
    result = run_mypy(mypy_python, tmp_path, "sample.py")
    found = set()
    for line in result.stdout.splitlines():
        match = _LINE.match(line)
        if match:
            found.add(("sample.py", int(match.group(1)), match.group(2)))
    where = f"{mypy_version(mypy_python)}\n{result.stdout}{result.stderr}"
    assert result.returncode == 1, where
    others = [x for x in result.stdout.splitlines() if ": error:" in x and not _LINE.match(x)]
    assert not others, where  # nothing but ours
    both = expected_findings(tmp_path)
    only_mypy = _mypy_only(SAMPLE)
    assert len(only_mypy) >= 5
    assert found == both | only_mypy, where

    # Same catalogue, same codes: the libcst checker agrees on every line both should report,
    # and misses the ones only types reveal.
    libcst_found = {("sample.py", f.line, f.code) for f in check_source(SAMPLE)}
    assert both <= libcst_found
    assert not (only_mypy & libcst_found)


def test_a_missing_mypy_internal_means_no_diagnostic_not_a_crash() -> None:
    """The hooks read the checker's scope stack, which is not part of mypy's plugin interface:
    an api object without it (as a future mypy might hand over) gives no error and no crash."""
    from mypy.nodes import CallExpr, NameExpr

    from dbos_lint.mypy_plugin import DbosLintPlugin

    failures: list[str] = []
    api = SimpleNamespace(path="sample.py", fail=lambda *a, **k: failures.append(str(a)))
    default = object()
    ctx = SimpleNamespace(
        api=api, context=CallExpr(NameExpr("time"), [], [], []), args=[[]],
        arg_types=[[]], default_return_type=default,
    )  # fmt: skip
    plugin = DbosLintPlugin.__new__(DbosLintPlugin)
    for fullname, method in (("time.time", False), ("random.Random.random", True)):
        hook = (plugin.get_method_hook if method else plugin.get_function_hook)(fullname)
        assert hook is not None
        assert hook(ctx) is default  # type: ignore[arg-type]
    signature_hook = plugin.get_function_hook("dbos_lint.mypy_plugin:apply-workflow")
    assert signature_hook is not None
    assert signature_hook(ctx) is default  # type: ignore[arg-type]
    assert failures == []
