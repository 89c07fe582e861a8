"""How workflow inputs, step outputs, results and errors become text in the system database.

The default format (`dbos_json`) is JSON so that stored rows stay readable by other tools and so
that reading a row can never execute code the way unpickling can. Values that plain JSON cannot
represent faithfully are written as tagged objects::

    {"__dbos__": "<tag>", ...}

Replay hands the stored value back to the workflow in place of re-running the step, so a value
must come back with exactly the type it had (a tuple must not turn into a list), otherwise the
replayed run could take a different branch than the original one. Plain JSON values (str, int,
float, bool, None, and lists / str-keyed dicts of them) are written as plain JSON with no tags.

Tags (every tagged object has the tag key plus the fields listed):

=============  ==================================================================
``tuple``      ``v``: list of elements
``set``        ``v``: list of elements (sorted when the elements allow it)
``frozenset``  ``v``: list of elements
``dict``       ``v``: list of ``[key, value]`` pairs; used for dicts with a non-str key
               or with the tag key itself, so a user's dict never reads as a tag
``bytes``      ``v``: base64 text (``bytearray`` likewise)
``float``      ``v``: ``"nan"``, ``"inf"`` or ``"-inf"`` (kept out of plain JSON, which has
               no such literals)
``int``        ``v``: hex text, for ints too long for Python's decimal-digit limit
``datetime``   ``v``: isoformat (with UTC offset when aware); ``zone``: zoneinfo key;
               ``tzname``: name of a named fixed-offset timezone; ``fold``: 1 when set
``date``       ``v``: isoformat
``time``       like ``datetime``
``timedelta``  ``v``: ``[days, seconds, microseconds]``
``decimal``    ``v``: ``str(value)``
``uuid``       ``v``: canonical text
``enum``       ``module``, ``qualname``, ``v``: the member's value
``dataclass``  ``module``, ``qualname``, ``v``: field name -> value
``pydantic``   ``module``, ``qualname``, ``v``: field name -> value; ``extra`` and
               ``fields_set`` when they carry information
``namedtuple`` ``module``, ``qualname``, ``v``: list of elements
``exception``  ``module``, ``qualname``, ``message`` (``str(exc)``), ``args`` (constructor
               arguments; absent when they could not be stored)
=============  ==================================================================

Classes are only ever looked up among modules that are already imported: stored text chooses
which class to build, so importing a module it names would let a database row run import-time
code.
"""

from __future__ import annotations

import abc
import base64
import binascii
import dataclasses
import enum
import io
import json
import math
import pickle
import sys
import types
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any

from ._error import DBOSDeserializationError, DBOSRecordedError, DBOSSerializationError

__all__ = [
    "DEFAULT_SERIALIZER",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
    "deserialize_exception",
    "serialize_exception",
]


class Serializer(abc.ABC):
    """Pluggable value format; same shape as upstream DBOS so users' serializers keep working."""

    def name(self) -> str:
        """Stored next to each value so a row is always read back with the format that wrote it.

        Not abstract because serializers written for upstream DBOS may not define it.
        """
        return "custom_serializer"

    @abc.abstractmethod
    def serialize(self, obj: Any) -> str: ...

    @abc.abstractmethod
    def deserialize(self, text: str) -> Any: ...


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------

_TAG = "__dbos__"

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


def _type_name(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


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


def _pydantic_base() -> type | None:
    # Only consult pydantic if the application imported it: no model can exist otherwise.
    mod = sys.modules.get("pydantic")
    base = getattr(mod, "BaseModel", None) if mod is not None else None
    return base if isinstance(base, type) else None


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {_type_name(type(exc))}>"


def _exception_args(exc: BaseException) -> tuple[Any, ...]:
    # DBOS errors (and other well-behaved classes) say through __reduce__ how to rebuild them.
    try:
        reduced = exc.__reduce__()
    except Exception:
        reduced = None
    if (
        isinstance(reduced, tuple)
        and len(reduced) >= 2
        and reduced[0] is type(exc)
        and isinstance(reduced[1], tuple)
    ):
        return reduced[1]
    return tuple(exc.args)


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


def _unsupported_reason(obj: Any) -> str:
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
    for base in (str, int, float, dict, list, tuple, set, frozenset, bytes):
        if isinstance(obj, base):
            return (
                f"it is a subclass of {base.__name__}, and storing it as a plain "
                f"{base.__name__} would change its type on replay"
            )
    return (
        "only JSON values, common standard-library types, dataclasses, pydantic models, enums, "
        "named tuples and exceptions can be stored"
    )


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
    raise _EncodeError(obj, _unsupported_reason(obj))


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


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def _resolve_class(module: str, qualname: str) -> type | None:
    """Finds a class by name without importing anything or running attribute hooks."""
    mod = sys.modules.get(module)
    if mod is None:
        return None
    obj: Any = mod
    for part in qualname.split("."):
        try:
            namespace = vars(obj)
        except TypeError:
            return None
        obj = namespace.get(part)
        if obj is None:
            return None
    return obj if isinstance(obj, type) else None


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


class JSONSerializer(Serializer):
    """The default: JSON plus tagged objects, never executes code named by stored data."""

    def name(self) -> str:
        return "dbos_json"

    def serialize(self, obj: Any) -> str:
        t = type(obj)
        if t is str:
            return encode_basestring_ascii(obj)
        if (
            t in _SCALARS
            or (t is dict and _is_plain_dict(obj, 0))
            or (t is list and _is_plain_list(obj, 0))
        ):
            try:
                return _encode_json(obj)
            except ValueError:
                pass  # NaN/inf or an int past the digit limit: the walk tags those
        return _encode_tagged(obj)

    def deserialize(self, text: str) -> Any:
        if not isinstance(text, str):
            raise DBOSDeserializationError(
                f"Stored dbos_json value must be text, not {type(text).__name__}"
            )
        try:
            if _TAG not in text:
                return _PLAIN_DECODER.decode(text)
            return _TAGGED_DECODER.decode(text)
        except DBOSDeserializationError:
            raise
        except (ValueError, RecursionError) as e:
            raise DBOSDeserializationError(f"Stored value is not valid dbos_json: {e}") from e


class PickleSerializer(Serializer):
    """Opt-in only: reading a pickle runs code chosen by whoever wrote the database row.

    Use it only when every writer of the system database is trusted; it exists for values no
    JSON encoding can carry (arbitrary class instances), never as the default.
    """

    def name(self) -> str:
        return "py_pickle"

    def serialize(self, obj: Any) -> str:
        try:
            data = pickle.dumps(obj, protocol=pickle.DEFAULT_PROTOCOL)
        except Exception as e:
            raise DBOSSerializationError(
                f"Cannot pickle value of type '{_type_name(type(obj))}': {e}"
            ) from e
        return base64.b64encode(data).decode("ascii")

    def deserialize(self, text: str) -> Any:
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError, TypeError) as e:
            raise DBOSDeserializationError(f"Stored py_pickle value is not base64: {e}") from e
        try:
            return pickle.loads(data)
        except Exception as e:
            raise DBOSDeserializationError(
                f"Cannot unpickle stored value: {type(e).__name__}: {e}"
            ) from e


def serialize_exception(serializer: Serializer, exc: BaseException) -> str:
    """Records an error so that recording it can never itself fail for an ordinary error.

    A workflow's failure must reach the database even when its exception carries values the
    serializer rejects, so anything unstorable degrades to a DBOSRecordedError (type name and
    message). Serializers other than dbos_json are checked by reading the text back, because
    e.g. a pickled exception whose __init__ signature differs from its args only fails on load.
    """
    if isinstance(serializer, JSONSerializer):
        return serializer.serialize(exc)  # never fails: unstorable args degrade to the message
    try:
        text = serializer.serialize(exc)
        if isinstance(serializer.deserialize(text), BaseException):
            return text
    except Exception:
        pass
    fallback = DBOSRecordedError(_type_name(type(exc)), _safe_str(exc))
    try:
        return serializer.serialize(fallback)
    except Exception as e:
        raise DBOSSerializationError(
            f"Serializer {serializer.name()!r} cannot store error of type "
            f"'{_type_name(type(exc))}': {e}"
        ) from e


def deserialize_exception(serializer: Serializer, text: str) -> BaseException:
    """Reads back what serialize_exception wrote; anything but an exception means a bad row."""
    value = serializer.deserialize(text)
    if not isinstance(value, BaseException):
        raise DBOSDeserializationError(
            f"Stored error is a value of type '{_type_name(type(value))}', not an exception"
        )
    return value


DEFAULT_SERIALIZER = JSONSerializer()
