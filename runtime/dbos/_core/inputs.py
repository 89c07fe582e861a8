"""A workflow's inputs: stored before anything else, so a bad argument writes nothing, and read
back by recovery, which also finds the `self` or `cls` a method workflow needs."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from .._error import DBOSException, DBOSSerializationError
from .._registry import registry as _registry
from .._registry.registry import FunctionInfo
from .._serialization import PORTABLE_FORMAT, Serializer, deserialize_inputs, serialize_inputs
from .formats import restore_portable_types, workflow_serializer
from .runtime import Runtime


def bind_target(info: FunctionInfo, args: tuple[Any, ...]) -> tuple[str | None, str | None]:
    """Class and configured-instance names to store, so recovery can find `self` or `cls`;
    refused (before anything is written) when recovery could not find them by those names."""
    if not info.takes_self or not args:
        return None, None
    target = args[0]
    cls = target if isinstance(target, type) else type(target)
    class_name = _registry.dbos_class_name(cls)
    if _registry.get_class(class_name) is not cls:
        kind = "a class" if isinstance(target, type) else "a class instance"
        raise DBOSException(
            f"Function target appears to be {kind}, but is not properly registered: "
            f"workflow {info.name!r} is a method of class {cls.__qualname__!r}, which is not "
            "decorated with @DBOS.dbos_class(), so recovery could not find the class by name"
        )
    if isinstance(target, type):
        return class_name, None
    config_name = getattr(target, "config_name", None)
    if config_name is None:
        raise DBOSException(
            f"Workflow {info.name!r} is an instance method: its class must inherit "
            "DBOSConfiguredInstance (and call super().__init__(config_name=...)) so that "
            "recovery can find the instance"
        )
    return class_name, str(config_name)


_signature = functools.lru_cache(maxsize=None)(inspect.signature)


def check_arguments(info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse arguments the workflow's signature cannot take, in the caller: a queued, delayed
    or debounced run would otherwise end in ERROR long after the call that was wrong."""
    try:
        signature = _signature(info.func)
    except (TypeError, ValueError):
        return  # a callable without an inspectable signature is left to the call itself
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{info.func.__qualname__}(): {exc}; nothing was recorded") from None


def encode_inputs(
    runtime: Runtime, info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str:
    """Serialize the arguments in the workflow's format, or refuse naming the parameter,
    before anything is written."""
    check_arguments(info, args, kwargs)
    stored = args[1:] if info.takes_self else args
    serializer = workflow_serializer(runtime, info)
    try:
        return serialize_inputs(serializer, stored, kwargs)
    except DBOSSerializationError as exc:
        try:
            bound = inspect.signature(info.func).bind_partial(*args, **kwargs).arguments
        except TypeError:
            bound = {f"args[{i}]": v for i, v in enumerate(stored)} | kwargs
        for param, value in bound.items():
            if info.takes_self and param in ("self", "cls"):
                continue
            try:
                serializer.serialize(value)
            except DBOSSerializationError as inner:
                raise DBOSSerializationError(
                    f"Workflow {info.name!r}: argument {param!r} of type "
                    f"{type(value).__qualname__} cannot be serialized ({inner.message}); "
                    "nothing was recorded"
                ) from None
        raise DBOSSerializationError(
            f"Workflow {info.name!r}: arguments cannot be serialized ({exc.message}); "
            "nothing was recorded"
        ) from None


def decode_inputs(
    serializer: Serializer, info: FunctionInfo, text: str | None
) -> tuple[list[Any], dict[str, Any]]:
    """The stored arguments of a run of `info`, read with the serializer of its row."""
    if not text:
        return [], {}
    args, kwargs = deserialize_inputs(serializer, text)
    if serializer.name() == PORTABLE_FORMAT:
        return restore_portable_types(info, args, kwargs)
    return args, kwargs
