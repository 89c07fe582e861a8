"""Upstream DBOS's portable JSON format (`portable_json`): values every DBOS implementation
reads, whatever its language, written byte for byte as upstream DBOS 2.31 writes them.

Only JSON types exist in it, so types are lost on the way: a datetime is written as an
RFC 3339 UTC string (`2024-01-02T03:04:05.123Z`), a date as `2024-01-02`, a Decimal as its
fixed-point text, tuples and sets as arrays, any mapping with string keys as an object. A
workflow's arguments are the object ``{"namedArgs": {...}, "positionalArgs": [...]}``, its
error the object ``{"name": ..., "message": ..., "code": ..., "data": ...}``, read back as a
`PortableWorkflowError`.

Reading needs no runtime and never runs code: `decode_value`, `decode_inputs` and
`decode_error` take the stored text alone, so tools that open a system database written by
another DBOS (a converted upstream database) can read its portable rows directly.

Where upstream writes text other implementations cannot parse (NaN and infinities, which JSON
has no literal for), writing here refuses the value with the path to it; reading accepts them,
so what upstream wrote is still readable.
"""

from __future__ import annotations

import decimal
import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any, cast

from .._error import DBOSDeserializationError, DBOSSerializationError
from .base import Serializer, _safe_str, _sqlalchemy_row_class, _type_name

PORTABLE_FORMAT = "portable_json"

# Attributes an error's code and its structured details are taken from, first present wins
# (the order upstream DBOS reads them in, so both write the same error object).
_CODE_ATTRIBUTES = ("code", "error_code", "errno", "status", "status_code")
_DATA_ATTRIBUTES = ("data", "details", "payload", "extra", "meta", "metadata")


class WorkflowSerializationFormat(str, Enum):
    """The format of a workflow's stored values (`@DBOS.workflow(serialization_type=...)`),
    and of one event, stream value or message (`serialization_type=` on the call).

    PORTABLE: `portable_json`, readable by every DBOS implementation. NATIVE: this process's
    Python format (the configured serializer, or `dbos_json` when that is the portable one),
    which gives values back with their Python types. DEFAULT: the workflow's own format (for a
    value written by a workflow or its steps), else the configured serializer.
    """

    PORTABLE = "portable"
    NATIVE = "native"
    DEFAULT = None  # upstream's spelling: its value is the text "None"


class PortableWorkflowError(Exception):
    """An error as the portable format stores it: its type's name, its message, and an
    optional code and JSON details. A workflow in the portable format that raised is read
    back as this, in any process, since the error's own class may not exist there."""

    def __init__(
        self, message: str, name: str, code: int | str | None = None, data: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.code = code
        self.data = data

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"PortableWorkflowError(message={self.message!r}, name={self.name!r}, "
            f"code={self.code!r}, data={self.data!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.name, self.code, self.data))

    def to_error_data(self) -> dict[str, Any]:
        """The stored object: name and message, code and data when set."""
        out: dict[str, Any] = {"name": self.name, "message": self.message}
        if self.code is not None:
            out["code"] = self.code
        if self.data is not None:
            out["data"] = self.data
        return out


# ------------------------------------------------------------------------------ writing


class _Unportable(Exception):
    def __init__(self, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason
        self.path: list[str] = []  # innermost step first


def _rfc3339_utc(value: datetime) -> str:
    """UTC, milliseconds, `Z`: the one spelling of an instant every reader parses. A naive
    datetime is taken to be UTC already, as upstream takes it."""
    aware = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    text = aware.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text


def _items(values: Any, active: set[int], step: str) -> list[Any]:
    if id(values) in active:
        raise _Unportable(values, "it contains itself")
    active.add(id(values))
    try:
        out = []
        for i, item in enumerate(values):
            try:
                out.append(_portable(item, active))
            except _Unportable as e:
                e.path.append(step.format(i))
                raise
        return out
    finally:
        active.discard(id(values))


def _mapping(value: Mapping[Any, Any], active: set[int]) -> dict[str, Any]:
    if id(value) in active:
        raise _Unportable(value, "it contains itself")
    active.add(id(value))
    try:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unportable(
                    value, f"key {key!r} is not a string: JSON objects have string keys only"
                )
            try:
                out[str.__str__(key)] = _portable(item, active)
            except _Unportable as e:
                e.path.append(f"[{key!r}]")
                raise
        return out
    finally:
        active.discard(id(value))


def _portable(value: Any, active: set[int]) -> Any:
    """`value` as plain JSON values, converted as upstream converts them."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unportable(value, "JSON has no NaN or infinity (other languages cannot read it)")
        return value
    if isinstance(value, datetime):
        return _rfc3339_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise _Unportable(value, "JSON has no NaN or infinity (other languages cannot read it)")
        return format(value, "f")
    if isinstance(value, (list, tuple)):
        return _items(value, active, "[{}]")
    if isinstance(value, (set, frozenset)):
        return _items(value, active, "{{element {}}}")
    if isinstance(value, Mapping):
        return _mapping(value, active)
    row = _sqlalchemy_row_class("Row")
    if row is not None and isinstance(value, row):
        return _items(list(cast(Sequence[Any], value)), active, "[{}]")
    raise _Unportable(
        value,
        "the portable format holds JSON values, datetimes, dates, Decimals, lists, tuples, "
        "sets and mappings with string keys only",
    )


def to_portable(value: Any) -> Any:
    """`value` as the JSON structure the portable format stores, or DBOSSerializationError
    naming the part that has no portable form."""
    try:
        return _portable(value, set())
    except _Unportable as e:
        where = "".join(reversed(e.path)) if e.path else "the top level"
        raise DBOSSerializationError(
            f"Cannot serialize value of type '{_type_name(type(e.value))}' at {where} in the "
            f"portable JSON format: {e.reason}"
        ) from None
    except RecursionError:
        raise DBOSSerializationError(
            f"Cannot serialize value of type '{_type_name(type(value))}' in the portable JSON "
            "format: it is nested too deeply"
        ) from None


def _dumps(structure: Any) -> str:
    # Compact separators and raw (non-ASCII) characters, as upstream writes. A lone surrogate
    # cannot be sent to a database as UTF-8: only then are characters written as \u escapes,
    # which every JSON reader turns back into the same string.
    text = json.dumps(structure, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(structure, separators=(",", ":"), allow_nan=False)
    return text


def encode_value(value: Any) -> str:
    return _dumps(to_portable(value))


def encode_inputs(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """A workflow's arguments: named first, then positional, as upstream orders the keys."""
    return _dumps(to_portable({"namedArgs": dict(kwargs), "positionalArgs": list(args)}))


def _attribute(error: BaseException, name: str) -> tuple[bool, Any]:
    try:
        return True, getattr(error, name)
    except Exception:  # absent, or a property that raises: as if absent
        return False, None


def _text(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unprintable {_type_name(type(value))}>"


def error_data(error: BaseException) -> dict[str, Any]:
    """What an error is stored as. Never fails: the error must be recorded whatever it holds,
    so details with no portable form are stored as their text."""
    out: dict[str, Any] = {"name": type(error).__name__, "message": _safe_str(error)}
    code: Any = None
    for name in _CODE_ATTRIBUTES:
        found, value = _attribute(error, name)
        if found and (value is None or isinstance(value, (int, str))):
            code = value
            break
    out["code"] = code
    for name in _DATA_ATTRIBUTES:
        found, value = _attribute(error, name)
        if not found or callable(value):
            continue
        try:
            out["data"] = to_portable(value)
        except DBOSSerializationError:
            out["data"] = _text(value)
        break
    return out


def encode_error(error: BaseException) -> str:
    if isinstance(error, PortableWorkflowError):
        data = error.to_error_data()
        data.setdefault("code", None)
        try:
            return _dumps(to_portable(data))
        except DBOSSerializationError:
            data["data"] = _text(error.data)
            return _dumps(to_portable(data))
    return _dumps(error_data(error))


# ------------------------------------------------------------------------------ reading


def decode_value(text: str | None) -> Any:
    """A stored portable value as plain JSON values (None stays None)."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise DBOSDeserializationError(
            f"Stored portable_json value must be text, not {type(text).__name__}"
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise DBOSDeserializationError(f"Stored value is not valid portable JSON: {e}") from e


def decode_inputs(text: str | None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A workflow's stored arguments: (positional, named); either part may be absent."""
    stored = decode_value(text)
    if stored is None:
        return (), {}
    if not isinstance(stored, dict):
        raise DBOSDeserializationError(
            "Stored portable workflow arguments must be an object with positionalArgs and "
            f"namedArgs, not {type(stored).__name__}"
        )
    positional = stored.get("positionalArgs")
    named = stored.get("namedArgs")
    if positional is not None and not isinstance(positional, list):
        raise DBOSDeserializationError("Stored portable positionalArgs must be an array")
    if named is not None and not isinstance(named, dict):
        raise DBOSDeserializationError("Stored portable namedArgs must be an object")
    return tuple(positional or ()), dict(named or {})


def decode_error(text: str) -> PortableWorkflowError:
    stored = decode_value(text)
    if not isinstance(stored, dict):
        raise DBOSDeserializationError(
            f"Stored portable error must be an object, not {type(stored).__name__}"
        )
    message, name, code = stored.get("message"), stored.get("name"), stored.get("code")
    return PortableWorkflowError(
        message if isinstance(message, str) else _text(message),
        name if isinstance(name, str) else "Error",
        code if code is None or isinstance(code, (int, str)) else None,
        stored.get("data"),
    )


def coerce_to_hint(value: Any, hint: Any) -> Any:
    """A `datetime` or `date` parameter gets back the type its RFC 3339 text lost; any other
    value, or text that does not parse, is left as it is."""
    if not isinstance(value, str) or hint not in (datetime, date):
        return value
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return value
    return parsed if hint is datetime else parsed.date()


# ------------------------------------------------------------------------------ serializer


class DBOSPortableJSONSerializer(Serializer):
    """`portable_json` as a serializer: as the configured one (`"serializer":
    DBOSPortableJSONSerializer()`), every value this process writes is portable."""

    def name(self) -> str:
        return PORTABLE_FORMAT

    def serialize(self, obj: Any) -> str:
        return encode_value(obj)

    def deserialize(self, text: str) -> Any:
        return decode_value(text)


PORTABLE_SERIALIZER = DBOSPortableJSONSerializer()
