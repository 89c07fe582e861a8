"""A griffe extension for the API reference: shows the facade's operations as the methods they
are at run time.

`DBOS` and `DBOSClient` get most of their methods from mixins that assign operation descriptors
(`runtime/dbos/_facade/operations.py`): `list_workflows = _list_workflows`,
`list_workflows_async = _list_workflows.asynchronous()`. Read statically, these are attributes
without docstrings, and the reference would leave them out. This extension replaces each such
attribute by a copy of the function it names, without its `caller` parameter, `async` for the
`.asynchronous()` variant, returning what the operation's `present=` function makes of the
result when it has one, which is exactly what `operations.py` builds at run time.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ASSIGNED = re.compile(
    r"^(?P<func>_\w+)(?P<variant>\.asynchronous\((?:present=(?P<present>_\w+))?\))?$"
)
_PRESENT = re.compile(r"present=(?P<present>_\w+)")


def _operation_decorator(func: griffe.Function) -> str | None:
    """The text of the function's `@operation(...)`/`@async_operation(...)`, if it has one."""
    for decorator in func.decorators:
        text = str(decorator.value)
        if text.startswith(("operation(", "async_operation(")):
            return text
    return None


class Operations(griffe.Extension):
    def on_class_members(self, *, cls: griffe.Class, **_: Any) -> None:
        module = cls.module
        for name, member in list(cls.members.items()):
            if not isinstance(member, griffe.Attribute) or member.value is None:
                continue
            assigned = _ASSIGNED.match(str(member.value))
            if not assigned:
                continue
            target = module.members.get(assigned.group("func"))
            if not isinstance(target, griffe.Function):
                continue
            decorator = _operation_decorator(target)
            if decorator is None:
                continue
            present_name = assigned.group("present")
            if present_name is None:
                from_decorator = _PRESENT.search(decorator)
                present_name = from_decorator.group("present") if from_decorator else None
            returns = target.returns
            present = module.members.get(present_name) if present_name else None
            if isinstance(present, griffe.Function) and present.returns is not None:
                returns = present.returns
            method = griffe.Function(
                name,
                lineno=target.lineno,
                endlineno=target.endlineno,
                parameters=griffe.Parameters(*list(target.parameters)[1:]),
                returns=returns,
                docstring=target.docstring,
                parent=cls,
            )
            if assigned.group("variant") or "async" in target.labels:
                method.labels.add("async")
            cls.set_member(name, method)
