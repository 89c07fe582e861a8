"""Encoding values as `dbos_json`: plain JSON where the value is plain, tagged objects for the
rest (see the package's docstring), refusing what cannot be stored with the path to it."""

from __future__ import annotations

import base64
import dataclasses
import enum
import io
import json
import math
import sys
import types
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, cast

from .._error import DBOSSerializationError
from .base import (
    _TAG,
    _exception_args,
    _is_plain_class,
    _plain_str,
    _pydantic_base,
    _resolve_class,
    _safe_str,
    _sqlalchemy_row_class,
    _type_name,
)
from .rows import CompatRow

# Exact types (not subclasses) that the C JSON encoder writes and json.loads reads back as-is.
_SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None)})
_STR_ONLY: frozenset[type] = frozenset({str})

# Past this depth the fast check gives up and the tagged walk (which detects cycles) takes over;
# this is what keeps a self-referencing dict from recursing forever in the fast check.
_FAST_DEPTH = 48

# Python refuses to parse decimal ints longer than sys.get_int_max_str_digits() (4300 by
# default), so ints approaching that are written as hex, which has no such limit.
_MAX_PLAIN_INT_BITS = 13_000

# ensure_ascii: a lone surrogate in a str becomes a \u escape; raw, no driver can encode it.
# allow_nan=False: NaN/Infinity are not JSON; hitting one sends us to the tagged walk.
# check_circular=False: only structures the fast check or the walk vetted reach the encoder.
_ENCODER = json.JSONEncoder(
    ensure_ascii=True, allow_nan=False, check_circular=False, separators=(",", ":")
)
_encode_json: Callable[[Any], str] = _ENCODER.encode


class _Walk(set[int]):
    """State of one tagged walk: ids of the containers being encoded (to catch cycles).

    `shortcut` lets plain-JSON sub-containers through unwalked; it is switched off for a second
    walk when the JSON encoder turns out to reject something inside them (NaN, huge ints).
    """

    __slots__ = ("shortcut",)

    def __init__(self, shortcut: bool) -> None:
        super().__init__()
        self.shortcut = shortcut


class _EncodeError(Exception):
    """Carries the offending value out of the walk; each container adds its step to the path."""

    def __init__(self, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason
        self.path: list[str] = []  # innermost step first


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{_type_name(type(value))}>"
    return text if len(text) <= 40 else text[:37] + "..."


def _is_plain_list(items: list[Any], depth: int) -> bool:
    # map(type, ...) keeps the per-element work in C; Python only runs per nested container.
    if _SCALARS.issuperset(map(type, items)):
        return True
    if depth >= _FAST_DEPTH:
        return False
    for item in items:
        t = type(item)
        if t is dict:
            if not _is_plain_dict(item, depth + 1):
                return False
        elif t is list:
            if not _is_plain_list(item, depth + 1):
                return False
        elif t not in _SCALARS:
            return False
    return True


def _is_plain_dict(d: dict[Any, Any], depth: int) -> bool:
    if _TAG in d or not _STR_ONLY.issuperset(map(type, d)):
        return False
    values = d.values()
    if _SCALARS.issuperset(map(type, values)):
        return True
    if depth >= _FAST_DEPTH:
        return False
    for item in values:
        t = type(item)
        if t is dict:
            if not _is_plain_dict(item, depth + 1):
                return False
        elif t is list:
            if not _is_plain_list(item, depth + 1):
                return False
        elif t not in _SCALARS:
            return False
    return True


def _enter(obj: Any, active: _Walk) -> None:
    key = id(obj)
    if key in active:
        raise _EncodeError(obj, "the value contains itself (circular reference)")
    active.add(key)


def _enc_items(items: Any, active: _Walk, step: str) -> list[Any]:
    out: list[Any] = []
    for i, item in enumerate(items):
        try:
            out.append(_enc(item, active))
        except _EncodeError as e:
            e.path.append(step.format(i))
            raise
    return out


def _enc_str_dict(d: dict[str, Any], active: _Walk, prefix: str) -> dict[str, Any]:
    """Encodes a name -> value mapping known to have str keys and no tag key."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        try:
            out[k] = _enc(v, active)
        except _EncodeError as e:
            e.path.append(f"{prefix}{k}" if prefix else f"[{k!r}]")
            raise
    return out


def _enc_dict(d: dict[Any, Any], active: _Walk) -> Any:
    if active.shortcut and _is_plain_dict(d, 0):
        return d
    _enter(d, active)
    try:
        if _TAG not in d and _STR_ONLY.issuperset(map(type, d)):
            return _enc_str_dict(d, active, "")
        if _TAG not in d:
            keys = [_plain_str(k) for k in d]
            if all(k is not None for k in keys):  # str subclasses such as quoted_name
                plain = {cast(str, k): v for k, v in zip(keys, d.values(), strict=True)}
                return _enc_str_dict(plain, active, "")
        pairs: list[list[Any]] = []
        for k, v in d.items():
            try:
                ek = _enc(k, active)
            except _EncodeError as e:
                e.path.append(f"[<key {_short_repr(k)}>]")
                raise
            try:
                ev = _enc(v, active)
            except _EncodeError as e:
                e.path.append(f"[{_short_repr(k)}]")
                raise
            pairs.append([ek, ev])
        return {_TAG: "dict", "v": pairs}
    finally:
        active.discard(id(d))


def _enc_list(items: list[Any], active: _Walk) -> Any:
    if active.shortcut and _is_plain_list(items, 0):
        return items
    _enter(items, active)
    try:
        return _enc_items(items, active, "[{}]")
    finally:
        active.discard(id(items))


def _enc_tuple(items: tuple[Any, ...], active: _Walk) -> Any:
    as_list = list(items)
    if active.shortcut and _is_plain_list(as_list, 0):
        return {_TAG: "tuple", "v": as_list}
    _enter(items, active)
    try:
        return {_TAG: "tuple", "v": _enc_items(items, active, "[{}]")}
    finally:
        active.discard(id(items))


def _enc_set(items: set[Any] | frozenset[Any], active: _Walk) -> Any:
    # Sorted when possible so equal sets give equal text regardless of hash seed.
    try:
        ordered: list[Any] = sorted(items)
    except Exception:
        ordered = list(items)
    tag = "set" if type(items) is set else "frozenset"
    return {_TAG: tag, "v": _enc_items(ordered, active, "{{element {}}}")}


def _enc_float(x: float, active: _Walk) -> Any:
    if math.isfinite(x):
        return x
    return {_TAG: "float", "v": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _enc_int(x: int, active: _Walk) -> Any:
    if x.bit_length() <= _MAX_PLAIN_INT_BITS:
        return x
    return {_TAG: "int", "v": format(x, "x")}


def _tz_fields(tz: tzinfo | None, value: Any) -> dict[str, Any]:
    """Extra fields that pin down a tzinfo beyond the UTC offset already in the isoformat text."""
    if tz is None:
        return {}
    if type(tz) is timezone:
        offset = tz.utcoffset(None)
        if tz.tzname(None) != timezone(offset).tzname(None):
            return {"tzname": tz.tzname(None)}
        return {}
    zoneinfo = sys.modules.get("zoneinfo")
    if zoneinfo is not None and isinstance(tz, zoneinfo.ZoneInfo):
        key = tz.key
        if isinstance(key, str):
            return {"zone": key}
    raise _EncodeError(
        value,
        f"its tzinfo {_type_name(type(tz))} cannot be stored; "
        "use datetime.timezone or zoneinfo.ZoneInfo(key)",
    )


def _enc_datetime(x: datetime, active: _Walk) -> Any:
    out: dict[str, Any] = {_TAG: "datetime", "v": x.isoformat()}
    out.update(_tz_fields(x.tzinfo, x))
    if x.fold:
        out["fold"] = 1
    return out


def _enc_time(x: time, active: _Walk) -> Any:
    out: dict[str, Any] = {_TAG: "time", "v": x.isoformat()}
    out.update(_tz_fields(x.tzinfo, x))
    if x.fold:
        out["fold"] = 1
    return out


def _enc_date(x: date, active: _Walk) -> Any:
    return {_TAG: "date", "v": x.isoformat()}


def _enc_timedelta(x: timedelta, active: _Walk) -> Any:
    return {_TAG: "timedelta", "v": [x.days, x.seconds, x.microseconds]}


def _enc_bytes(x: bytes | bytearray, active: _Walk) -> Any:
    tag = "bytes" if type(x) is bytes else "bytearray"
    return {_TAG: tag, "v": base64.b64encode(x).decode("ascii")}


def _enc_decimal(x: Decimal, active: _Walk) -> Any:
    return {_TAG: "decimal", "v": str(x)}


def _enc_uuid(x: uuid.UUID, active: _Walk) -> Any:
    return {_TAG: "uuid", "v": str(x)}


_EXACT_ENCODERS: dict[type, Callable[[Any, _Walk], Any]] = {
    int: _enc_int,
    float: _enc_float,
    dict: _enc_dict,
    list: _enc_list,
    tuple: _enc_tuple,
    set: _enc_set,
    frozenset: _enc_set,
    bytes: _enc_bytes,
    bytearray: _enc_bytes,
    datetime: _enc_datetime,
    date: _enc_date,
    time: _enc_time,
    timedelta: _enc_timedelta,
    Decimal: _enc_decimal,
    uuid.UUID: _enc_uuid,
}


def _class_ref(cls: type, value: Any, kind: str) -> dict[str, Any]:
    """Refuses at write time a class that could never be found again at read time."""
    if _resolve_class(cls.__module__, cls.__qualname__) is not cls:
        raise _EncodeError(
            value,
            f"{kind} {cls.__qualname__} is not reachable as a module-level name "
            "(defined inside a function?), so it could not be rebuilt when read back",
        )
    return {"module": cls.__module__, "qualname": cls.__qualname__}


def _enc_exception(exc: BaseException, active: _Walk) -> Any:
    cls = type(exc)
    out: dict[str, Any] = {
        _TAG: "exception",
        "module": cls.__module__,
        "qualname": cls.__qualname__,
        "message": _safe_str(exc),
    }
    if id(exc) in active:
        return out  # an error list containing itself: keep the message, drop the cycle
    active.add(id(exc))
    try:
        out["args"] = _enc_items(_exception_args(exc), active, ".args[{}]")
    except _EncodeError:
        pass  # an error must always be recordable; read-back rebuilds from the message
    finally:
        active.discard(id(exc))
    return out


def _enc_dataclass(obj: Any, active: _Walk) -> Any:
    out = {_TAG: "dataclass", **_class_ref(type(obj), obj, "dataclass")}
    _enter(obj, active)
    try:
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        out["v"] = _enc_str_dict(fields, active, ".")
    finally:
        active.discard(id(obj))
    return out


def _enc_pydantic(obj: Any, active: _Walk) -> Any:
    cls = type(obj)
    out = {_TAG: "pydantic", **_class_ref(cls, obj, "pydantic model")}
    _enter(obj, active)
    try:
        names = list(cls.model_fields)
        out["v"] = _enc_str_dict({n: getattr(obj, n) for n in names}, active, ".")
        extra = obj.__pydantic_extra__
        if extra:
            out["extra"] = _enc_str_dict(dict(extra), active, ".")
        fields_set = set(obj.model_fields_set)
        if fields_set != set(names):  # validation also counts extras as set
            out["fields_set"] = sorted(fields_set)
    finally:
        active.discard(id(obj))
    return out


def _enc_namedtuple(obj: tuple[Any, ...], active: _Walk) -> Any:
    out = {_TAG: "namedtuple", **_class_ref(type(obj), obj, "named tuple")}
    _enter(obj, active)
    try:
        out["v"] = _enc_items(obj, active, ".{}")
    finally:
        active.discard(id(obj))
    return out


def _enc_row(row: Any, active: _Walk) -> Any:
    """A result row (ours, or SQLAlchemy's `Row`): its values and column names, read back as
    a `CompatRow`, which does what either did (index, unpack, `row.col`, `row._mapping`)."""
    fields = [str.__str__(f) for f in row._fields]
    _enter(row, active)
    try:
        return {_TAG: "row", "fields": fields, "v": _enc_items(tuple(row), active, ".{}")}
    finally:
        active.discard(id(row))


_EXACT_ENCODERS[CompatRow] = _enc_row


def _enc_row_types(obj: Any, active: _Walk) -> Any:
    """SQLAlchemy's rows, as what a transaction returns: a `Row` as a row, a `RowMapping` as
    the plain dict it reads like. None when `obj` is neither."""
    row = _sqlalchemy_row_class("Row")
    if row is not None and isinstance(obj, row):
        return _enc_row(obj, active)
    mapping = _sqlalchemy_row_class("RowMapping")
    if mapping is not None and isinstance(obj, mapping):
        return _enc_dict(dict(cast(Mapping[str, Any], obj)), active)
    return None


def _process_bound_reason(obj: Any) -> str | None:
    """Why a value that lives only in this process (a generator, a lock, a file ...) cannot be
    stored; None for any other value."""
    if isinstance(obj, (types.GeneratorType, types.AsyncGeneratorType)):
        return "generators are live iterators; convert to a list first"
    if isinstance(obj, types.CoroutineType):
        return "coroutines cannot be stored; await them and store the result"
    if isinstance(obj, type):
        return "classes cannot be stored, only instances"
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return "functions and methods cannot be stored; store the data they need instead"
    if isinstance(obj, types.ModuleType):
        return "modules cannot be stored"
    if isinstance(obj, io.IOBase):
        return "open files and streams belong to this process; store their path or contents"
    threading = sys.modules.get("threading")
    if threading is not None and isinstance(
        obj, (type(threading.Lock()), type(threading.RLock()), threading.Condition)
    ):
        return "locks belong to this process and cannot be stored"
    socket = sys.modules.get("socket")
    if socket is not None and isinstance(obj, socket.socket):
        return "sockets belong to this process and cannot be stored"
    return None


def _unsupported_reason(obj: Any) -> str:
    for base in (str, int, float, dict, list, tuple, set, frozenset, bytes):
        if isinstance(obj, base):
            return (
                f"it is a subclass of {base.__name__}, and storing it as a plain "
                f"{base.__name__} would change its type on replay"
            )
    return (
        "only JSON values, common standard-library types, dataclasses, pydantic models, enums, "
        "named tuples, exceptions and plain objects (their state in __dict__, no slots or "
        "pickling hooks) can be stored"
    )


def _enc_plain_object(obj: Any, active: _Walk) -> Any:
    out = {_TAG: "object", **_class_ref(type(obj), obj, "class")}
    _enter(obj, active)
    try:
        out["v"] = _enc_str_dict(dict(vars(obj)), active, ".")
    finally:
        active.discard(id(obj))
    return out


def _enc_other(obj: Any, active: _Walk) -> Any:
    if isinstance(obj, enum.Enum):
        out = {_TAG: "enum", **_class_ref(type(obj), obj, "enum")}
        try:
            out["v"] = _enc(obj.value, active)
        except _EncodeError as e:
            e.path.append(".value")
            raise
        return out
    if isinstance(obj, BaseException):
        return _enc_exception(obj, active)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _enc_dataclass(obj, active)
    base = _pydantic_base()
    if base is not None and isinstance(obj, base):
        return _enc_pydantic(obj, active)
    if isinstance(obj, tuple) and isinstance(getattr(type(obj), "_fields", None), tuple):
        return _enc_namedtuple(obj, active)
    text = _plain_str(obj)
    if text is not None:
        return text
    encoded = _enc_row_types(obj, active)
    if encoded is not None:
        return encoded
    reason = _process_bound_reason(obj)
    if reason is None and _is_plain_class(type(obj)) and hasattr(obj, "__dict__"):
        return _enc_plain_object(obj, active)
    raise _EncodeError(obj, reason or _unsupported_reason(obj))


def _enc(obj: Any, active: _Walk) -> Any:
    """Turns obj into a structure of plain JSON values and tagged objects."""
    t = type(obj)
    if t is str or t is bool or obj is None:
        return obj
    encoder = _EXACT_ENCODERS.get(t)
    if encoder is not None:
        return encoder(obj, active)
    return _enc_other(obj, active)


def _format_path(path: list[str]) -> str:
    return "".join(reversed(path)) if path else "the top level"


def _serialization_error(e: _EncodeError) -> DBOSSerializationError:
    return DBOSSerializationError(
        f"Cannot serialize value of type '{_type_name(type(e.value))}' at "
        f"{_format_path(e.path)}: {e.reason} (configure a custom serializer or convert it)"
    )


def _encode_tagged(obj: Any) -> str:
    try:
        try:
            return _encode_json(_enc(obj, _Walk(shortcut=True)))
        except ValueError:
            return _encode_json(_enc(obj, _Walk(shortcut=False)))
    except _EncodeError as e:
        raise _serialization_error(e) from None
    except RecursionError:
        raise DBOSSerializationError(
            f"Cannot serialize value of type '{_type_name(type(obj))}': it is nested too deeply"
        ) from None
