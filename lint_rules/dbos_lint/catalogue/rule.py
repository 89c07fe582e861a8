"""What one rule of the catalogue is, and the helper its examples are written with."""

from __future__ import annotations

from dataclasses import dataclass

_HEAD = "from dbos import DBOS\n\n\n"


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


def workflow_example(body: str, *, head: str = "", is_async: bool = False) -> str:
    """A small module with one workflow; keeps the examples readable in the docs."""
    lines = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    kw = "async def" if is_async else "def"
    return f"{head}{_HEAD}@DBOS.workflow()\n{kw} wf() -> None:\n{lines}"
