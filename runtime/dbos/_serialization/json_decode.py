"""Decoding `dbos_json`: tagged objects rebuilt, classes looked up only among modules already
imported."""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from .._error import DBOSDeserializationError, DBOSRecordedError
from .base import (
    _TAG,
    _exception_args,
    _is_plain_class,
    _pydantic_base,
    _resolve_class,
    _safe_str,
    _type_name,
)
from .rows import CompatRow


def _stored_class(d: dict[str, Any], kind: str, accept: Callable[[type], bool]) -> Any:
    module, qualname = d["module"], d["qualname"]
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise DBOSDeserializationError(f"Stored {kind} has a malformed class reference")
    cls = _resolve_class(module, qualname)
    if cls is None:
        raise DBOSDeserializationError(
            f"Cannot deserialize {kind} '{module}.{qualname}': no such class in the modules "
            "imported so far (classes named by stored data are never imported automatically; "
            "import its module before reading the value)"
        )
    if not accept(cls):
        raise DBOSDeserializationError(
            f"Cannot deserialize {kind} '{module}.{qualname}': that name refers to a class "
            f"that is not a {kind}"
        )
    return cls


def _apply_tz(value: Any, d: dict[str, Any]) -> Any:
    zone = d.get("zone")
    if zone is not None:
        import zoneinfo  # stdlib; only needed for values that were stored with a zone

        value = value.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    else:
        tzname = d.get("tzname")
        if tzname is not None:
            value = value.replace(tzinfo=timezone(value.utcoffset(), tzname))
    if d.get("fold"):
        value = value.replace(fold=1)
    return value


def _dec_dataclass(d: dict[str, Any]) -> Any:
    cls = _stored_class(d, "dataclass", lambda c: dataclasses.is_dataclass(c))
    stored: dict[str, Any] = d["v"]
    fields = dataclasses.fields(cls)
    # Going through __init__ keeps __post_init__ invariants; stored fields the class no longer
    # has are dropped so that adding/removing fields with defaults does not strand old rows.
    try:
        obj = cls(**{f.name: stored[f.name] for f in fields if f.init and f.name in stored})
        for f in fields:
            if not f.init and f.name in stored:
                object.__setattr__(obj, f.name, stored[f.name])
    except Exception as e:
        raise DBOSDeserializationError(
            f"Cannot rebuild dataclass '{_type_name(cls)}' from stored fields: {e}"
        ) from e
    return obj


def _dec_pydantic(d: dict[str, Any]) -> Any:
    base = _pydantic_base()
    cls = _stored_class(d, "pydantic model", lambda c: base is not None and issubclass(c, base))
    values: dict[str, Any] = dict(d["v"])
    values.update(d.get("extra") or {})
    fields_set = d.get("fields_set")
    # model_construct restores the stored state as-is: it was validated when first built, and
    # re-validating could transform it a second time.
    return cls.model_construct(
        _fields_set=set(fields_set) if fields_set is not None else None, **values
    )


def _dec_enum(d: dict[str, Any]) -> Any:
    cls = _stored_class(d, "enum", lambda c: issubclass(c, enum.Enum))
    try:
        return cls(d["v"])
    except ValueError as e:
        raise DBOSDeserializationError(
            f"Cannot deserialize enum '{_type_name(cls)}': {e} (was the member removed?)"
        ) from e


def _dec_namedtuple(d: dict[str, Any]) -> Any:
    cls = _stored_class(
        d,
        "named tuple",
        lambda c: issubclass(c, tuple) and isinstance(getattr(c, "_fields", None), tuple),
    )
    return cls(*d["v"])


def _dec_exception(d: dict[str, Any]) -> Any:
    module, qualname, message = d["module"], d["qualname"], d["message"]
    if not all(isinstance(x, str) for x in (module, qualname, message)):
        raise DBOSDeserializationError("Stored exception has malformed fields")
    type_name = qualname if module == "builtins" else f"{module}.{qualname}"
    cls = _resolve_class(module, qualname)
    if cls is None or not issubclass(cls, BaseException):
        return DBOSRecordedError(type_name, message)
    stored = d.get("args")
    args = tuple(stored) if isinstance(stored, list) else (message,)
    try:
        exc = cls(*args)
    except Exception:
        return DBOSRecordedError(type_name, message)
    # A class whose __init__ formats its arguments into the message accepts them back but builds
    # a different error; if neither its constructor arguments nor its message survived the
    # rebuild, the record is more truthful than the rebuilt object.
    if _safe_equal(_exception_args(exc), args) or _safe_str(exc) == message:
        return exc
    return DBOSRecordedError(type_name, message)


def _safe_equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _dec_plain_object(d: dict[str, Any]) -> Any:
    cls = _stored_class(d, "plain object", _is_plain_class)
    state = d["v"]
    if not isinstance(state, dict):
        raise ValueError("its attributes must be an object")
    obj = object.__new__(cls)
    obj.__dict__.update(state)  # no __init__, no __setattr__: no code of the class runs
    return obj


def _dec_row(d: dict[str, Any]) -> Any:
    fields, values = d["fields"], d["v"]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ValueError("its column names must be a list of strings")
    if not isinstance(values, list):
        raise ValueError("its values must be a list")
    return CompatRow(values, fields)


def _dec_float(d: dict[str, Any]) -> Any:
    v = d["v"]
    if v not in ("nan", "inf", "-inf"):
        raise ValueError(f"bad float {v!r}")
    return float(v)


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "tuple": lambda d: tuple(d["v"]),
    "set": lambda d: set(d["v"]),
    "frozenset": lambda d: frozenset(d["v"]),
    "dict": lambda d: {k: v for k, v in d["v"]},
    "bytes": lambda d: base64.b64decode(d["v"], validate=True),
    "bytearray": lambda d: bytearray(base64.b64decode(d["v"], validate=True)),
    "float": _dec_float,
    "int": lambda d: int(d["v"], 16),
    "datetime": lambda d: _apply_tz(datetime.fromisoformat(d["v"]), d),
    "date": lambda d: date.fromisoformat(d["v"]),
    "time": lambda d: _apply_tz(time.fromisoformat(d["v"]), d),
    "timedelta": lambda d: timedelta(*d["v"]),
    "decimal": lambda d: Decimal(d["v"]),
    "uuid": lambda d: uuid.UUID(d["v"]),
    "enum": _dec_enum,
    "dataclass": _dec_dataclass,
    "pydantic": _dec_pydantic,
    "namedtuple": _dec_namedtuple,
    "exception": _dec_exception,
    "row": _dec_row,
    "object": _dec_plain_object,
}


def _object_hook(d: dict[str, Any]) -> Any:
    # json calls this innermost-first, so every field of a tagged object is already decoded.
    if _TAG not in d:
        return d
    tag = d[_TAG]
    decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
    if decoder is None:
        raise DBOSDeserializationError(f"Stored value has unknown tag {tag!r}")
    try:
        return decoder(d)
    except DBOSDeserializationError:
        raise
    except Exception as e:
        raise DBOSDeserializationError(
            f"Stored value tagged {tag!r} is malformed: {type(e).__name__}: {e}"
        ) from e


_PLAIN_DECODER = json.JSONDecoder()
_TAGGED_DECODER = json.JSONDecoder(object_hook=_object_hook)
