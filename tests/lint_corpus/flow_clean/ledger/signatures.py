"""Signatures of plain data, aliases of plain data, and a generator that is only a helper."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Optional, TypeAlias

from dbos import DBOS

Items = list[str]
Mode: TypeAlias = Literal["socket", "file"]


@dataclass
class Order:
    id: str
    cents: int


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), 10):
        yield items[start : start + 10]


@DBOS.workflow()
def with_data(order: Order, items: Items, mode: Mode, note: Optional[str] = None) -> list[str]:
    return [order.id, mode, note or "", *items]


@DBOS.step()
def paged(items: "Items") -> list[list[str]]:
    return list(_chunks(items))
