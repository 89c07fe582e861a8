"""The serializers: `dbos_json` (the default) and pickle (only when configured), and how
exceptions are stored with either."""

from __future__ import annotations

import base64
import binascii
import pickle
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from .._error import (
    DBOSDeserializationError,
    DBOSFormatNotConfiguredError,
    DBOSRecordedError,
    DBOSSerializationError,
)
from .base import _TAG, Serializer, _safe_str, _type_name
from .json_decode import _PLAIN_DECODER, _TAGGED_DECODER
from .json_encode import _SCALARS, _encode_json, _encode_tagged, _is_plain_dict, _is_plain_list
from .portable import PORTABLE_FORMAT, PORTABLE_SERIALIZER
from .portable import decode_error as _decode_portable_error
from .portable import decode_inputs as _decode_portable_inputs
from .portable import encode_error as _encode_portable_error
from .portable import encode_inputs as _encode_portable_inputs


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
    if serializer.name() == PORTABLE_FORMAT:
        return _encode_portable_error(exc)  # never fails: unportable details become text
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
    if serializer.name() == PORTABLE_FORMAT:
        return _decode_portable_error(text)
    value = serializer.deserialize(text)
    if not isinstance(value, BaseException):
        raise DBOSDeserializationError(
            f"Stored error is a value of type '{_type_name(type(value))}', not an exception"
        )
    return value


def serialize_inputs(serializer: Serializer, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """A workflow's arguments as stored: `{"args": [...], "kwargs": {...}}`, or the portable
    format's own `{"namedArgs": {...}, "positionalArgs": [...]}`."""
    if serializer.name() == PORTABLE_FORMAT:
        return _encode_portable_inputs(args, kwargs)
    return serializer.serialize({"args": list(args), "kwargs": kwargs})


def deserialize_inputs(serializer: Serializer, text: str) -> tuple[list[Any], dict[str, Any]]:
    """What serialize_inputs wrote, as (positional, named)."""
    if serializer.name() == PORTABLE_FORMAT:
        args, kwargs = _decode_portable_inputs(text)
        return list(args), kwargs
    value = serializer.deserialize(text)
    if not isinstance(value, dict):
        raise DBOSDeserializationError(
            f"Stored workflow arguments are a value of type '{_type_name(type(value))}', not "
            "an object of args and kwargs"
        )
    return list(value.get("args") or ()), dict(value.get("kwargs") or {})


DEFAULT_SERIALIZER = JSONSerializer()


def reader_for(stored_format: str | None, configured: Serializer) -> Serializer:
    """The serializer that reads a value stored in `stored_format`, given the configured one.

    `dbos_json` and `portable_json` rows are readable by every process: neither can run code.
    Any other format (pickle, a custom serializer) only with that serializer configured, so a
    pickled row is never unpickled unless the user opted in to pickle."""
    if stored_format is None or stored_format == configured.name():
        return configured
    if stored_format == DEFAULT_SERIALIZER.name():
        return DEFAULT_SERIALIZER
    if stored_format == PORTABLE_FORMAT:
        return PORTABLE_SERIALIZER
    raise DBOSFormatNotConfiguredError(stored_format, configured.name())
