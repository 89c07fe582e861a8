"""The `DBOS` members about who a workflow runs for: the role decorators and the current
user, roles and assumed role (see `_core/auth.py` for how they are kept and checked)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .._core.auth import current_auth, set_authentication
from .._registry import roles as _roles
from .classproperty import classproperty

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T", bound=type)


class Authentication:
    @classmethod
    def required_roles(cls, roles: list[str]) -> Callable[[F], F]:
        """The workflow, step or transaction below (or above) runs only for a user holding
        one of `roles`, and runs under the first one held (`DBOS.assumed_role`); others get
        `DBOSNotAuthorizedError`. An empty list lifts the class's default."""
        return _roles.required_roles(roles)

    @classmethod
    def default_required_roles(cls, roles: list[str]) -> Callable[[T], T]:
        """`required_roles` for every DBOS function of the class that sets none of its own;
        the class is registered as `DBOS.dbos_class()` registers it."""
        return _roles.default_required_roles(roles)

    @classmethod
    def set_authentication(
        cls, authenticated_user: str | None, authenticated_roles: list[str] | None
    ) -> None:
        """Set the current user and roles for the rest of this context (a request's
        middleware); `DBOSContextSetAuth` does the same for a block."""
        set_authentication(authenticated_user, authenticated_roles)

    @classproperty
    def authenticated_user(cls) -> str | None:
        return current_auth().user

    @classproperty
    def authenticated_roles(cls) -> list[str] | None:
        roles = current_auth().roles
        return None if roles is None else list(roles)

    @classproperty
    def assumed_role(cls) -> str | None:
        return current_auth().assumed_role
