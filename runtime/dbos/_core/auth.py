"""Who a workflow runs for: the authenticated user, the roles granted to them, and the role
assumed to run the current function, in a `contextvar` like the rest of the context.

A workflow keeps its caller's user and roles on its row, so that it runs for the same user
wherever it runs: on a workflow thread, off a queue, or recovered in another process; the
children it starts inherit them. A function with required roles (`DBOS.required_roles`, or its
class's `DBOS.default_required_roles`) runs only for a user who holds one of them, and runs
under the first one held (`DBOS.assumed_role`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from .._error import DBOSNotAuthorizedError
from .._registry.registry import FunctionInfo
from .._registry.roles import roles_tuple


@dataclass(frozen=True)
class Auth:
    """The authentication a call runs under (all None: unauthenticated)."""

    user: str | None = None
    roles: tuple[str, ...] | None = None
    assumed_role: str | None = None

    def row_columns(self) -> dict[str, Any]:
        """The workflow row's columns for it (roles as a JSON list, none stored as NULL)."""
        return {
            "authenticated_user": self.user,
            "authenticated_roles": json.dumps(list(self.roles)) if self.roles else None,
            "assumed_role": self.assumed_role,
        }


NO_AUTH = Auth()

_auth: ContextVar[Auth] = ContextVar("dbos_auth", default=NO_AUTH)


def current_auth() -> Auth:
    return _auth.get()


def auth_from_row(user: str | None, roles_text: str | None, assumed: str | None) -> Auth:
    """The auth a workflow's row recorded: what it runs under when recovered or dequeued."""
    roles = tuple(json.loads(roles_text)) if roles_text else None
    if user is None and roles is None and assumed is None:
        return NO_AUTH
    return Auth(user, roles, assumed)


def set_authentication(user: str | None, roles: Sequence[str] | None) -> None:
    """Replace the current user and roles for the rest of this context (`DBOS.set_authentication`,
    for a request handler's middleware)."""
    checked = roles_tuple(roles, "authenticated_roles")
    _auth.set(replace(_auth.get(), user=user, roles=checked))


class DBOSContextSetAuth:
    """Run the block as `user`, holding `roles`: workflows started in it record them, and
    functions with required roles check them. The previous user and roles come back after."""

    def __init__(self, user: str | None, roles: Sequence[str] | None) -> None:
        if user is not None and not isinstance(user, str):
            raise TypeError(f"DBOSContextSetAuth: user must be a string or None, got {user!r}")
        self._user = user
        self._roles = roles_tuple(roles, "DBOSContextSetAuth: roles")
        self._token: Any = None

    def __enter__(self) -> DBOSContextSetAuth:
        self._token = _auth.set(replace(_auth.get(), user=self._user, roles=self._roles))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _auth.reset(self._token)


def run_for(auth: Auth) -> Token[Auth]:
    """Make `auth` a workflow body's (the one it was started or recorded with); the token
    gives the caller's back (`end_run_for`). Plain calls: this is on every workflow's path."""
    return _auth.set(auth)


def end_run_for(token: Token[Auth]) -> None:
    _auth.reset(token)


def _function_name(info: FunctionInfo) -> str:
    return getattr(info.func, "__qualname__", info.name)


def check_required_roles(info: FunctionInfo, auth: Auth | None = None) -> str | None:
    """The role `info` runs under for `auth` (default: the current one): the first of its
    required roles (its own, else its class's default) the user holds; None when it requires
    none. Raises DBOSNotAuthorizedError
    when the user holds none of them (or nobody is authenticated)."""
    required = info.required_roles
    if required is None:
        required = info.class_required_roles
    if not required:
        return None
    auth = current_auth() if auth is None else auth
    if auth.roles is None:
        raise DBOSNotAuthorizedError(
            f"Function {_function_name(info)} requires a role, but was called in a context "
            "without authentication information"
        )
    for role in required:
        if role in auth.roles:
            return role
    raise DBOSNotAuthorizedError(
        f"Function {_function_name(info)} has required roles, but user is not authenticated "
        "for any of them"
    )


def role_to_record(info: FunctionInfo, auth: Auth) -> str | None:
    """The assumed role a new workflow's row records: the one it will run under when its user
    holds a required role, else the caller's (the check itself happens when it runs)."""
    try:
        role = check_required_roles(info, auth)
    except DBOSNotAuthorizedError:
        return auth.assumed_role
    return role if role is not None else auth.assumed_role


class authorized:  # noqa: N801 - used as a function: `with authorized(info):`
    """Run a step, a transaction or a workflow body as `info` allows: refused with
    DBOSNotAuthorizedError, else under the role it assumes (the caller's when none is needed).
    A class, not a generator: it is entered on every workflow's path."""

    __slots__ = ("_info", "_token")

    def __init__(self, info: FunctionInfo) -> None:
        self._info = info
        self._token: Token[Auth] | None = None

    def __enter__(self) -> None:
        role = check_required_roles(self._info)
        if role is not None:
            self._token = _auth.set(replace(_auth.get(), assumed_role=role))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _auth.reset(self._token)


def needs_roles(info: FunctionInfo) -> bool:
    """Whether calls of `info` must be checked (cheap: read on every step call)."""
    return info.required_roles is not None or info.class_required_roles is not None
