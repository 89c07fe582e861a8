"""The portable JSON format's sample values, encoded by whichever `dbos` this interpreter has.

    python tests/programs/portable_samples.py write           # JSON {case: stored text} on stdout
    python tests/programs/portable_samples.py read < texts    # JSON {case: decoded value} on stdout

Run with upstream DBOS's interpreter it shows what upstream writes and reads; run with this
project's, what we do. `tests/fixtures/portable_samples.json` holds upstream 2.31.1's output of
`write` (regenerate it with
`/tmp/upvenv/bin/python tests/programs/portable_samples.py write`), so the
suite checks byte compatibility without upstream installed; `test_portable_format.py` also runs
this script under upstream's interpreter when one is there, both ways.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any


class AppError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = 409
        self.data = {"retryable": False, "when": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)}


class Unprintable:
    def __repr__(self) -> str:
        return "<unprintable payload>"


class DetailedError(RuntimeError):
    def __init__(self) -> None:
        super().__init__("details are not JSON")
        self.status_code = "E42"
        self.details = Unprintable()


VALUES: dict[str, Any] = {
    "none": None,
    "true": True,
    "int": 42,
    "big_int": 2**70,
    "float": 3.25,
    "str": "plain",
    "unicode": "héllo wörld ✓ 日本",
    "escapes": 'quote " backslash \\ newline \n tab \t',
    "list": [1, "two", 3.0, None, False],
    "tuple": (1, 2, 3),
    "nested": {"a": {"b": [1, {"c": "d"}]}, "e": []},
    "empty_dict": {},
    "naive_datetime": datetime(2024, 1, 2, 3, 4, 5, 123456),
    "utc_datetime": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    "offset_datetime": datetime(2024, 1, 2, 3, 4, 5, 999999, tzinfo=timezone(timedelta(hours=5))),
    "date": date(2024, 2, 29),
    "decimal": Decimal("1234.5600"),
    "decimal_exponent": Decimal("1E+3"),
    "small_int_set": {3},
    "mixed": {"when": date(2000, 1, 1), "amounts": [Decimal("0.1"), Decimal("-2")]},
}

INPUTS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "positional": (("s", 1, {"k": "k", "v": ["v"]}), {}),
    "named": ((), {"when": datetime(2024, 1, 2, tzinfo=timezone.utc), "n": 2}),
    "both": ((1,), {"x": [1, 2]}),
    "none": ((), {}),
}

ERRORS: dict[str, Any] = {
    "plain": Exception("This is just a plain error"),
    "value_error": ValueError("bad value"),
    "with_code_and_data": AppError("boom"),
    "unportable_data": DetailedError(),
    "os_error": OSError(2, "No such file"),
}


def _upstream() -> bool:
    import dbos._serialization as s

    return hasattr(s, "DBOSPortableJSON")


def write() -> dict[str, str]:
    out: dict[str, str] = {}
    if _upstream():
        from dbos._serialization import (  # type: ignore[attr-defined]
            DBOSPortableJSON,
            WorkflowSerializationFormat,
            serialize_args,
        )
        from dbos._serialization import serialize_exception as upstream_exception

        for case, value in VALUES.items():
            out[f"value:{case}"] = DBOSPortableJSON.serialize(value)
        for case, (args, kwargs) in INPUTS.items():
            text, _ = serialize_args(
                args, kwargs, WorkflowSerializationFormat.PORTABLE, DBOSPortableJSON
            )
            out[f"inputs:{case}"] = text
        for case, error in ERRORS.items():
            text, _ = upstream_exception(error, "portable_json", DBOSPortableJSON)
            out[f"error:{case}"] = text
        return out
    from dbos._serialization import portable

    for case, value in VALUES.items():
        out[f"value:{case}"] = portable.encode_value(value)
    for case, (args, kwargs) in INPUTS.items():
        out[f"inputs:{case}"] = portable.encode_inputs(args, kwargs)
    for case, error in ERRORS.items():
        out[f"error:{case}"] = portable.encode_error(error)
    return out


def read(texts: dict[str, str]) -> dict[str, Any]:
    """Each text decoded, as JSON: values as they are, inputs as [args, kwargs], errors as
    [name, message, code, data]."""
    out: dict[str, Any] = {}
    if _upstream():
        from dbos._serialization import (  # type: ignore[attr-defined]
            DBOSPortableJSON,
            deserialize_args,
            deserialize_value,
        )
        from dbos._serialization import deserialize_exception as upstream_exception

        for case, text in texts.items():
            kind = case.split(":", 1)[0]
            if kind == "value":
                out[case] = deserialize_value(text, "portable_json", DBOSPortableJSON)
            elif kind == "inputs":
                inputs = deserialize_args(text, "portable_json", DBOSPortableJSON)
                out[case] = [list(inputs["args"]), inputs["kwargs"]]
            else:
                e = upstream_exception(text, "portable_json", DBOSPortableJSON)
                out[case] = [e.name, e.message, e.code, e.data]  # type: ignore[attr-defined]
        return out
    from dbos._serialization import portable

    for case, text in texts.items():
        kind = case.split(":", 1)[0]
        if kind == "value":
            out[case] = portable.decode_value(text)
        elif kind == "inputs":
            args, kwargs = portable.decode_inputs(text)
            out[case] = [list(args), kwargs]
        else:
            e = portable.decode_error(text)
            out[case] = [e.name, e.message, e.code, e.data]
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["write"]:
        json.dump(write(), sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    elif sys.argv[1:] == ["read"]:
        json.dump(read(json.load(sys.stdin)), sys.stdout, sort_keys=True, ensure_ascii=False)
    else:
        sys.exit("usage: portable_samples.py write | read")
