"""What one rule of the catalogue is, what a family of rules (one ``dbosNNN_*`` module) holds,
and the helper their examples are written with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

_HEAD = "from dbos import DBOS\n\n\n"

#: The class the running event loop is known by; several families judge its methods.
EVENT_LOOP = "asyncio.AbstractEventLoop"


@dataclass(frozen=True)
class Rule:
    """One diagnostic. ``message`` may use ``{name}`` (the resolved qualified name)."""

    code: str
    name: str
    summary: str
    message: str
    why: str
    fix: str
    flagged: tuple[str, ...]
    not_flagged: tuple[str, ...]
    severity: str = "error"
    #: ``extra-forbidden`` names the examples are checked with (only DBOS901 needs any).
    example_forbidden: tuple[str, ...] = ()

    def format(self, name: str) -> str:
        return self.message.format(name=name)


@dataclass(frozen=True)
class Family:
    """One module of the catalogue: a few rules, and the name tables that detect them. Every
    table maps a resolved qualified name to the code it breaks; ``names`` and ``objects`` merge
    the families' tables into the ones the checks and the mypy plugin read."""

    rules: tuple[Rule, ...]
    #: Calls, by exact qualified name.
    calls: Mapping[str, str] = field(default_factory=dict)
    #: Every call into a module (``requests`` covers ``requests.get``), ``safe`` names excepted.
    modules: Mapping[str, str] = field(default_factory=dict)
    #: Calls that are deterministic given enough arguments (``random.Random(42)``):
    #: name -> (arguments needed, the code otherwise).
    seedable: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    #: Outside classes every method of which breaks replay (clients, open files, threads).
    clients: Mapping[str, str] = field(default_factory=dict)
    #: Methods of outside classes, by ``class.method``.
    methods: Mapping[str, str] = field(default_factory=dict)
    #: Names flagged when merely read (no call needed).
    accesses: Mapping[str, str] = field(default_factory=dict)
    #: Names inside the ``modules`` above that are safe to call (plain data, no I/O).
    safe: frozenset[str] = frozenset()
    #: mypy reports *definition* names; typeshed defines some public names elsewhere.
    mypy_aliases: Mapping[str, str] = field(default_factory=dict)


def workflow_example(body: str, *, head: str = "", is_async: bool = False) -> str:
    """A small module with one workflow; keeps the examples readable in the docs."""
    lines = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    kw = "async def" if is_async else "def"
    return f"{head}{_HEAD}@DBOS.workflow()\n{kw} wf() -> None:\n{lines}"
