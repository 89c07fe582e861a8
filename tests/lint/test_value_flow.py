"""The value flow inside one module: aliases, instances, hierarchies, derived values, state.

Each test pairs what must be flagged with look-alikes that must not be (zero false positives is
the checker's first promise), and asserts the exact lines and codes.
"""

from __future__ import annotations

import textwrap

from dbos_lint import Finding, check_source


def _check(source: str) -> list[Finding]:
    return check_source("from dbos import DBOS\n" + textwrap.dedent(source))


def _codes(source: str) -> list[tuple[int, str]]:
    """(line, code) with line 1 being the first line of ``source`` (after the dbos import)."""
    return [(f.line - 1, f.code) for f in _check(source)]


def test_module_level_aliases_and_bound_functions() -> None:
    source = """
        import os
        import time
        from os import environ as E

        _now = time.time
        ENV = os.environ
        clock = getattr(time, "monotonic")

        def fake() -> float:
            return 0.0

        maybe = time.time if E else fake

        @DBOS.workflow()
        def wf(name: str) -> float:
            E.get("A")
            ENV["B"]
            local = time.time
            by_name = getattr(time, name)
            return _now() + clock() + local() + maybe() + by_name()
    """
    assert _codes(source) == [(17, "DBOS401"), (18, "DBOS401"), (21, "DBOS111"),
                              (21, "DBOS112"), (21, "DBOS111")]  # fmt: skip


def test_a_name_some_function_rebinds_with_global_is_not_trusted() -> None:
    source = """
        import time

        _now = time.time

        def freeze() -> None:
            global _now
            _now = lambda: 0.0

        @DBOS.workflow()
        def wf() -> float:
            return _now()
    """
    assert _codes(source) == []


def test_clients_kept_on_the_instance() -> None:
    source = """
        import random
        import requests

        class Service:
            def __init__(self) -> None:
                self.http = requests.Session()
                self.rng = random.Random()
                self.seeded = random.Random(42)
                self.name = "svc"
                self.cache: dict[str, str] = {}

            @DBOS.step()
            def fetch(self) -> str:
                return self.http.get("u").text

            @DBOS.workflow()
            def run(self) -> str:
                self.cache["k"] = self.name
                self.http.get("u")
                self.rng.random()
                self.seeded.random()
                return self.fetch() + self.name.upper()
    """
    assert _codes(source) == [(20, "DBOS202"), (21, "DBOS101")]


def test_a_client_built_in_the_workflow_is_reported_once_where_it_is_built() -> None:
    source = """
        import httpx

        @DBOS.workflow()
        async def wf() -> int:
            async with httpx.AsyncClient() as client:
                response = await client.get("u")
            plain = httpx.URL("https://example.com")
            return response.status_code + len(plain.host)
    """
    assert _codes(source) == [(6, "DBOS202")]


def test_a_module_level_generator_is_shared_state_even_when_seeded() -> None:
    source = """
        import random

        RNG = random.Random(42)

        @DBOS.workflow()
        def wf(seed: int) -> float:
            mine = random.Random(seed)
            return RNG.random() + mine.random()
    """
    assert _codes(source) == [(9, "DBOS101")]


def test_project_classes_bases_super_properties_and_classmethods() -> None:
    source = """
        import os
        import time
        import uuid

        class Base:
            def _stamp(self) -> float:
                return time.time()

            def _pure(self) -> int:
                return 1

        class Mixin:
            @property
            def region(self) -> str:
                return os.environ["REGION"]

            @classmethod
            def make_id(cls) -> str:
                return str(uuid.uuid4())

            @staticmethod
            def double(x: int) -> int:
                return x * 2

        class Service(Mixin, Base):
            def _stamp(self) -> float:
                return super()._stamp() + self._pure()

            @DBOS.workflow()
            def run(self) -> str:
                return f"{self._stamp()}{self.region}{self.make_id()}{self.double(2)}"
    """
    findings = _check(source)
    assert [(f.line - 1, f.code, f.chain) for f in findings] == [
        (8, "DBOS111", ("Service._stamp", "Base._stamp")),
        (16, "DBOS401", ("Mixin.region",)),
        (20, "DBOS103", ("Mixin.make_id",)),
    ]


def test_an_instance_of_a_project_class_made_in_the_workflow() -> None:
    source = """
        import os

        class Flags:
            def __init__(self) -> None:
                self.prefix = "APP_"

            def enabled(self, name: str) -> bool:
                return os.environ.get(self.prefix + name) == "1"

        class Fixed:
            def enabled(self, name: str) -> bool:
                return name == "beta"

        @DBOS.workflow()
        def wf() -> bool:
            return Flags().enabled("x") and Fixed().enabled("beta")
    """
    findings = _check(source)
    assert [(f.line - 1, f.code) for f in findings] == [(9, "DBOS401")]
    assert findings[0].chain == ("Flags.enabled",)


def test_derived_paths_and_the_running_loop() -> None:
    source = """
        import asyncio
        from pathlib import Path

        ROOT = Path(__file__).parent
        DATA = ROOT / "data"

        @DBOS.workflow()
        async def wf() -> str:
            config = (DATA / "x.json").with_suffix(".toml")
            text = config.read_text()
            exists = (ROOT / "y").exists()
            loop = asyncio.get_running_loop()
            started = loop.time()
            task = loop.create_task(asyncio.sleep(0))
            return f"{config.name}{text}{exists}{started}{task}{DATA.parent.name}"
    """
    assert _codes(source) == [(11, "DBOS201"), (12, "DBOS201"), (14, "DBOS112"),
                              (15, "DBOS122")]  # fmt: skip


def test_set_order_through_names_transforms_and_consumers() -> None:
    source = """
        @DBOS.workflow()
        def wf(a: list[str], b: list[str], tags: frozenset[str]) -> str:
            diff = set(a) - set(b)
            items = list(diff)
            first = items[0]
            head = next(iter(tags))
            pairs = [p for p in zip(sorted(diff), a)]
            for position, item in enumerate(items):
                print(position, item)
            fixed = list(diff)
            fixed.sort()
            maybe = list(diff) if a else []
            return first + head + fixed[0] + maybe[0] + str(len(items)) + str(pairs)
    """
    assert _codes(source) == [(6, "DBOS501"), (7, "DBOS501"), (9, "DBOS501")]


def test_module_state_changed_from_workflows_and_their_helpers() -> None:
    source = """
        COUNT = 0
        CACHE: dict[str, int] = {}
        LIMIT = 3

        class Stats:
            def __init__(self) -> None:
                self.calls = 0

            def record(self) -> None:
                self.calls += 1

        STATS = Stats()

        class Registry:
            seen = 0

            @classmethod
            def bump(cls) -> None:
                cls.seen += 1

        def helper(key: str) -> None:
            CACHE.setdefault(key, 0)

        @DBOS.workflow()
        def wf(key: str) -> int:
            global COUNT
            COUNT += 1
            STATS.record()
            Registry.bump()
            helper(key)
            CACHE = {}
            CACHE[key] = LIMIT
            mine = Stats()
            mine.record()
            return COUNT

        @DBOS.step()
        def st(key: str) -> None:
            global COUNT
            COUNT += 1
    """
    findings = _check(source)
    assert [(f.line - 1, f.code, f.chain) for f in findings] == [
        (11, "DBOS402", ("Stats.record",)),
        (20, "DBOS402", ("Registry.bump",)),
        (23, "DBOS402", ("helper",)),
        (28, "DBOS402", ()),
    ]


def test_generators_are_reported_once() -> None:
    source = """
        from collections.abc import Iterator

        @DBOS.step()
        def annotated() -> Iterator[int]:
            yield 1

        @DBOS.workflow()
        def bare():
            def inner():
                yield 2
            yield from inner()

        @DBOS.step()
        def uses_a_generator() -> list[int]:
            return [x for x in (i for i in range(3))]
    """
    assert _codes(source) == [(5, "DBOS602"), (12, "DBOS603")]


def test_functions_passed_to_map_and_sorted_are_followed() -> None:
    source = """
        import random

        def jitter(x: int) -> float:
            return x + random.random()

        def key(x: int) -> int:
            return -x

        @DBOS.workflow()
        def wf(xs: list[int]) -> list[float]:
            return list(map(jitter, sorted(xs, key=key)))
    """
    assert _codes(source) == [(5, "DBOS101")]


def test_odd_syntax_does_not_break_the_walk() -> None:
    deep = " + ".join(["x"] * 3000)
    source = f"""
        import time
        from os.path import *

        @DBOS.workflow()
        def wf(x: int, cmd: object) -> object:
            total = {deep}
            values = [y := x * 2 for _ in range(3)]
            match cmd:
                case {{"at": when, **rest}}:
                    print(when, rest)
                case [first, *others]:
                    print(first, others)
            class Local:
                stamp = time.time()
            handler = lambda t=time.monotonic(): t
            return total, values, y, Local, handler
    """
    assert _codes(source) == [(15, "DBOS111"), (16, "DBOS112")]


def test_fields_declared_in_a_class_body_are_per_instance() -> None:
    source = """
        from dataclasses import dataclass, field

        @dataclass
        class Infos:
            names: dict[str, int] = field(default_factory=dict)
            tags: list[str]

        class Registry:
            shared = {}

        @DBOS.workflow()
        def wf(key: str) -> int:
            infos = Infos(tags=[])
            infos.names[key] = 1
            infos.tags.append(key)
            Registry.shared[key] = 1
            return len(infos.names)
    """
    assert _codes(source) == [(17, "DBOS402")]


def test_order_free_consumers_may_iterate_sets() -> None:
    source = """
        @DBOS.workflow()
        def wf(tags: set[str]) -> str:
            found = any(t.startswith("a") for t in tags)
            total = sum(len(t) for t in tags) + len([t for t in tags])
            upper = {t.upper() for t in tags}
            first = min(t for t in tags)
            joined = ",".join(t for t in tags)
            return f"{found}{total}{upper}{first}{joined}"
    """
    assert _codes(source) == [(8, "DBOS501")]


def test_signature_messages_name_the_alias_as_written() -> None:
    source = """
        import socket
        from collections.abc import Callable

        Handler = Callable[[int], None]

        @DBOS.step()
        def st(on_done: Handler, conn: "socket.socket") -> None:
            pass
    """
    messages = [f.message.split(" cannot")[0] for f in _check(source)]
    assert messages == [
        "parameter annotated `Handler` (which names `collections.abc.Callable`)",
        "parameter annotated `socket.socket`",
    ]


def test_alternative_definitions_are_all_followed() -> None:
    source = """
        import os
        import sys
        import time

        if sys.platform == "win32":
            def stamp() -> float:
                return time.time()
        else:
            def stamp() -> float:
                return float(os.getpid())

        @DBOS.workflow()
        def wf() -> float:
            return stamp()
    """
    assert _codes(source) == [(8, "DBOS111"), (11, "DBOS401")]


def test_every_statement_that_binds_a_name_shadows_the_module() -> None:
    """No walrus in this module: function scopes are built from statements alone."""
    source = """
        import os
        import time

        @DBOS.workflow()
        def wf(cmd: object, items: list[object]) -> None:
            match cmd:
                case {"at": time}:
                    time.time()
            for os in items:
                os.getpid()
            with open_thing() as random:
                random.random()
            try:
                pass
            except Exception as uuid:
                uuid.uuid4()
            import json as time2
            time2.dumps({})

        def open_thing() -> object:
            return object()

        @DBOS.workflow()
        def control() -> float:
            return time.time() + os.getpid()
    """
    assert _codes(source) == [(26, "DBOS111"), (26, "DBOS401")]
