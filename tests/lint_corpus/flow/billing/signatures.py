"""Signatures that cannot be recorded: clients, sessions, aliases of callables and sockets,
generator steps."""

import socket
from collections.abc import Callable
from typing import Optional, TypeAlias

import httpx
import requests
from sqlalchemy.orm import Session

from dbos import DBOS

Handler = Callable[[str], None]
Connection: TypeAlias = socket.socket


@DBOS.workflow()
def with_session(session: requests.Session, url: str) -> None:  # expect: DBOS601
    pass


@DBOS.step()
def with_client(client: Optional[httpx.Client] = None) -> None:  # expect: DBOS601
    pass


@DBOS.transaction()
def with_orm_session(db: Session) -> None:  # expect: DBOS601
    pass


@DBOS.workflow()
def with_callback(on_done: Handler) -> None:  # expect: DBOS601
    pass


@DBOS.step()
def with_socket(conn: "Connection") -> None:  # expect: DBOS601
    pass


@DBOS.step()
def pages(url: str):
    for page in range(3):
        yield f"{url}?page={page}"  # expect: DBOS603
