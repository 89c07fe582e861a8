"""Name resolution and workflow discovery, through the checker's API."""

from __future__ import annotations

import textwrap

from dbos_lint import Finding, Settings, check_source


def _check(source: str, settings: Settings | None = None) -> list[Finding]:
    return check_source(textwrap.dedent(source), settings)


def _codes(source: str) -> list[tuple[int, str]]:
    return [(f.line, f.code) for f in _check(source)]


def test_workflow_decorator_found_through_every_import_style() -> None:
    source = """
        import time
        import dbos
        import dbos as d
        from dbos import DBOS
        from dbos import DBOS as D

        @DBOS.workflow()
        def a(): time.time()
        @D.workflow()
        def b(): time.time()
        @dbos.DBOS.workflow()
        def c(): time.time()
        @d.DBOS.workflow
        def e(): time.time()
        @DBOS.scheduled("* * * * *")
        @DBOS.workflow()
        def f(s, a): time.time()
    """
    assert _codes(source) == [(9, "DBOS111"), (11, "DBOS111"), (13, "DBOS111"),
                              (15, "DBOS111"), (18, "DBOS111")]  # fmt: skip


def test_a_star_import_of_dbos_declares_workflows_and_queues() -> None:
    """``from dbos import *`` binds DBOS and Queue as any import of them does (the code
    generator has always compiled such modules; the checker now checks them too)."""
    source = """
        import time
        from os.path import *
        from dbos import *

        q = Queue("q")

        @DBOS.workflow()
        def wf() -> float:
            return time.time()

        @DBOS.step()
        def st() -> None:
            time.time()
            q.enqueue(wf)
    """
    assert _codes(source) == [(10, "DBOS111"), (15, "DBOS703")]


def test_a_star_import_of_another_module_binds_nothing_known() -> None:
    source = """
        import time
        from helpers import *

        @DBOS.workflow()
        def wf() -> float:
            return time.time()
    """
    assert _codes(source) == []


def test_a_local_class_named_dbos_is_not_the_framework() -> None:
    source = """
        import time
        import dbos

        class DBOS:
            @staticmethod
            def workflow():
                return lambda f: f

        @DBOS.workflow()
        def not_a_workflow():
            return time.time()
    """
    assert _codes(source) == []


def test_aliases_local_imports_and_shadowing() -> None:
    source = """
        from time import time as now
        from dbos import DBOS

        @DBOS.workflow()
        def wf(time, random):
            time.time()
            random.random()
            now()
            import random as r
            r.random()
            from os import getenv as env
            env("X")
            def now2():
                now = lambda: 1
                return now()
            now2()
    """
    assert _codes(source) == [(9, "DBOS111"), (11, "DBOS101"), (13, "DBOS401")]


def test_module_level_rebinding_of_a_module_name_is_not_the_module() -> None:
    source = """
        from dbos import DBOS

        class Clock:
            def time(self) -> float:
                return 0.0

        time = Clock()

        @DBOS.workflow()
        def wf() -> float:
            return time.time()
    """
    assert _codes(source) == []


def test_helpers_are_followed_transitively_and_the_chain_is_reported() -> None:
    source = """
        import uuid
        from dbos import DBOS

        def make_id():
            return str(uuid.uuid4())

        def build(x):
            return make_id() + x

        def unrelated():
            return uuid.uuid4()

        @DBOS.workflow()
        def my_wf(x: str) -> str:
            return build(x)

        @DBOS.workflow()
        def other(x: str) -> str:
            return build(x)
    """
    findings = _check(source)
    assert [(f.line, f.code) for f in findings] == [(6, "DBOS103")]
    (finding,) = findings
    assert finding.message.endswith("(reached from workflow `my_wf` via `build` -> `make_id`)")
    assert finding.workflow == "my_wf"
    assert finding.chain == ("build", "make_id")


def test_recursive_helpers_terminate() -> None:
    source = """
        import time
        from dbos import DBOS

        def ping(n):
            return pong(n - 1) if n else time.time()

        def pong(n):
            return ping(n)

        @DBOS.workflow()
        def wf():
            return ping(3)
    """
    assert _codes(source) == [(6, "DBOS111")]


def test_calls_into_steps_transactions_and_child_workflows_are_not_followed() -> None:
    source = """
        import time
        from dbos import DBOS

        @DBOS.step()
        def st():
            return time.time()

        @DBOS.transaction()
        def tx():
            return time.time()

        @DBOS.workflow()
        def child():
            return 1

        @DBOS.workflow()
        def wf():
            return st() + tx() + child()
    """
    assert _codes(source) == []


def test_method_chains_are_reported_once() -> None:
    source = """
        import requests, datetime
        from dbos import DBOS

        @DBOS.workflow()
        def wf():
            data = requests.get("u").json()
            text = datetime.datetime.now().isoformat()
            return data, text
    """
    findings = _check(source)
    assert [(f.line, f.code, f.column) for f in findings] == [
        (7, "DBOS202", 12),
        (8, "DBOS111", 12),
    ]


def test_pathlib_instances_and_classmethods() -> None:
    source = """
        from pathlib import Path
        from dbos import DBOS

        @DBOS.workflow()
        def wf(base: str) -> str:
            p = Path(base) / "x"
            name = p.name
            joined = Path(base).joinpath("y").with_suffix(".txt")
            return Path(base).read_text() + Path.cwd().name + name + str(joined)
    """
    assert _codes(source) == [(10, "DBOS201"), (10, "DBOS201")]


def test_configured_forbidden_and_allowed_names() -> None:
    source = """
        import time
        from myapp import flags
        from dbos import DBOS

        @DBOS.workflow()
        def wf():
            flags.is_enabled("x")
            flags.client.fetch()
            return time.time()
    """
    settings = Settings(
        extra_forbidden=frozenset({"myapp.flags.is_enabled", "myapp.flags.client"}),
        extra_allowed=frozenset({"time.time"}),
    )
    assert [(f.line, f.code) for f in _check(source, settings)] == [
        (8, "DBOS901"),
        (9, "DBOS901"),
    ]


def test_modules_without_dbos_are_parsed_but_not_analysed() -> None:
    assert check_source("import time\n\ndef f():\n    return time.time()\n") == []
    (finding,) = check_source("def f(:\n    pass\n")
    assert (finding.code, finding.line) == ("DBOS000", 1)


def test_decorators_through_module_level_aliases() -> None:
    source = """
        import time
        import requests
        from dbos import DBOS

        step = DBOS.step(retries_allowed=True)
        workflow = DBOS.workflow

        @step
        def fetch(url):
            return requests.get(url).text

        @workflow()
        def wf(url):
            return fetch(url) + str(time.time())
    """
    assert _codes(source) == [(15, "DBOS111")]
