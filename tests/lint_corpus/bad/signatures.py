"""Workflow and step signatures that cannot be serialized."""

import socket
import threading
import types
from collections.abc import AsyncIterator, Callable, Generator
from typing import IO, BinaryIO, Iterator, Optional, TextIO

from dbos import DBOS


@DBOS.workflow()
def takes_callback(callback: Callable[[int], None], n: int) -> None:  # expect: DBOS601
    pass


@DBOS.step()
def takes_lock(lock: threading.Lock) -> None:  # expect: DBOS601
    pass


@DBOS.step()
def takes_socket(sock: Optional[socket.socket] = None) -> None:  # expect: DBOS601
    pass


@DBOS.transaction()
def takes_file(fh: IO[str]) -> None:  # expect: DBOS601
    pass


@DBOS.workflow()
def takes_module(mod: types.ModuleType, *handlers: TextIO) -> int:  # expect: DBOS601
    return 1


@DBOS.step()
def yields_rows() -> Iterator[int]:  # expect: DBOS602
    yield 1


@DBOS.step()
def generator() -> Generator[int, None, None]:  # expect: DBOS602
    yield 1


@DBOS.step()
async def stream() -> AsyncIterator[bytes]:  # expect: DBOS602
    yield b""


@DBOS.step()
def raw_file() -> BinaryIO | None:  # expect: DBOS602
    return None


@DBOS.workflow()
def fine(items: list[str], meta: dict[str, int] | None = None) -> dict[str, list[int]]:
    return {}


@DBOS.workflow()
def quoted(cb: "Optional[Callable[[], None]]") -> "Iterator[int]":  # expect: DBOS601, DBOS602
    yield 1


@DBOS.workflow()
def quoted_fine(items: "list[str]", name: "str | None" = None) -> "dict[str, int]":
    return {}
