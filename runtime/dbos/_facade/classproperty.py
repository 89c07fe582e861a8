"""`classproperty`: a read-only property of a class, as `DBOS.workflow_id` is (the facade's
members are class-level, so they work before and after `DBOS(config=...)`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class classproperty:  # noqa: N801 - reads like the builtin `property`
    def __init__(self, getter: Callable[[Any], Any]) -> None:
        self._getter = getter

    def __get__(self, _instance: Any, owner: type) -> Any:
        return self._getter(owner)
