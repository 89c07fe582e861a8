"""The portable JSON format (`portable_json`): byte-compatible with upstream DBOS 2.31, readable
without a runtime, refusing what has no portable form (no database here)."""

from __future__ import annotations

import json
import pickle
import subprocess
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from programs import portable_samples, program

from dbos import DBOSPortableJSONSerializer, PortableWorkflowError, WorkflowSerializationFormat
from dbos._error import DBOSDeserializationError, DBOSSerializationError
from dbos._serialization import (
    DEFAULT_SERIALIZER,
    PORTABLE_SERIALIZER,
    PickleSerializer,
    deserialize_exception,
    deserialize_inputs,
    portable,
    reader_for,
    serialize_exception,
    serialize_inputs,
)

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "fixtures" / "portable_samples.json"
UPSTREAM_PYTHON = Path("/tmp/upvenv/bin/python")


def _run_samples(python: Path | str, mode: str, stdin: str = "") -> Any:
    done = subprocess.run(
        [str(python), str(program("portable_samples")), mode],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",  # so upstream's interpreter imports its own dbos, not this checkout's
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _upstream_available() -> bool:
    if not UPSTREAM_PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(UPSTREAM_PYTHON), "-c", "import dbos._serialization as s; s.DBOSPortableJSON"],
        capture_output=True,
        cwd="/",
    )
    return probe.returncode == 0


UPSTREAM_WRITES: dict[str, str] = json.loads(SAMPLES.read_text(encoding="utf-8"))


def test_samples_cover_every_case() -> None:
    expected = (
        {f"value:{c}" for c in portable_samples.VALUES}
        | {f"inputs:{c}" for c in portable_samples.INPUTS}
        | {f"error:{c}" for c in portable_samples.ERRORS}
    )
    assert set(UPSTREAM_WRITES) == expected


def test_we_write_upstreams_bytes() -> None:
    ours = portable_samples.write()
    assert ours == UPSTREAM_WRITES
    if _upstream_available():  # and against the live interpreter, where there is one
        assert ours == _run_samples(UPSTREAM_PYTHON, "write")


def test_we_read_what_upstream_wrote() -> None:
    read = portable_samples.read(UPSTREAM_WRITES)
    assert read["value:naive_datetime"] == "2024-01-02T03:04:05.123Z"
    assert read["value:tuple"] == [1, 2, 3]
    assert read["value:decimal"] == "1234.5600"
    assert read["value:big_int"] == 2**70
    assert read["value:unicode"] == "héllo wörld ✓ 日本"
    assert read["inputs:positional"] == [["s", 1, {"k": "k", "v": ["v"]}], {}]
    assert read["inputs:named"] == [[], {"when": "2024-01-02T00:00:00.000Z", "n": 2}]
    assert read["error:with_code_and_data"] == [
        "AppError",
        "boom",
        409,
        {"retryable": False, "when": "2024-05-06T07:08:09.000Z"},
    ]
    assert read["error:unportable_data"] == [
        "DetailedError",
        "details are not JSON",
        "E42",
        "<unprintable payload>",
    ]
    assert read["error:os_error"][2] == 2


def test_upstream_reads_what_we_write() -> None:
    ours = portable_samples.write()
    if _upstream_available():
        assert _run_samples(UPSTREAM_PYTHON, "read", json.dumps(ours)) == json.loads(
            json.dumps(portable_samples.read(ours))
        )
    else:  # the same bytes as upstream's own, which upstream reads as it wrote them
        assert ours == UPSTREAM_WRITES


def test_reads_upstreams_nan_but_refuses_to_write_it() -> None:
    value = portable.decode_value('{"x":NaN,"y":Infinity}')
    assert value["y"] == float("inf")
    for bad in (float("nan"), [1, float("-inf")], Decimal("NaN")):
        with pytest.raises(DBOSSerializationError, match="NaN or infinity"):
            portable.encode_value(bad)


def test_refusals_name_the_path_and_the_type() -> None:
    with pytest.raises(DBOSSerializationError, match=r"'object' at \['a'\]\[1\]"):
        portable.encode_value({"a": [0, object()]})
    with pytest.raises(DBOSSerializationError, match="key 1 is not a string"):
        portable.encode_value({1: "x"})
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(DBOSSerializationError, match="contains itself"):
        portable.encode_value(cyclic)
    with pytest.raises(DBOSSerializationError, match="'bytes'"):
        PORTABLE_SERIALIZER.serialize(b"raw")
    assert isinstance(DBOSSerializationError("x"), TypeError)  # what upstream raises


def test_str_subclasses_mappings_and_frozensets_are_plain_json() -> None:
    class Name(str):
        pass

    class Frozen(dict):  # type: ignore[type-arg]
        pass

    assert portable.encode_value({Name("k"): Name("v")}) == '{"k":"v"}'
    assert portable.encode_value(Frozen(a=frozenset([1]))) == '{"a":[1]}'


def test_lone_surrogates_are_escaped_so_a_database_can_take_them() -> None:
    text = portable.encode_value(["\ud800", "é"])
    text.encode("utf-8")  # would raise with the raw surrogate
    assert portable.decode_value(text) == ["\ud800", "é"]


def test_inputs_envelope_and_its_errors() -> None:
    assert portable.decode_inputs('{"positionalArgs":[1]}') == ((1,), {})
    assert portable.decode_inputs('{"namedArgs":{"a":1}}') == ((), {"a": 1})
    assert portable.decode_inputs(None) == ((), {})
    with pytest.raises(DBOSDeserializationError, match="must be an object"):
        portable.decode_inputs("[1, 2]")
    with pytest.raises(DBOSDeserializationError, match="positionalArgs must be an array"):
        portable.decode_inputs('{"positionalArgs": 3}')
    with pytest.raises(DBOSDeserializationError, match="not valid portable JSON"):
        portable.decode_value("{nope")


def test_serialize_inputs_picks_the_envelope_by_format() -> None:
    portable_text = serialize_inputs(PORTABLE_SERIALIZER, (1, "a"), {"k": None})
    assert portable_text == '{"namedArgs":{"k":null},"positionalArgs":[1,"a"]}'
    assert deserialize_inputs(PORTABLE_SERIALIZER, portable_text) == ([1, "a"], {"k": None})
    native_text = serialize_inputs(DEFAULT_SERIALIZER, (1, (2, 3)), {})
    assert deserialize_inputs(DEFAULT_SERIALIZER, native_text) == ([1, (2, 3)], {})
    with pytest.raises(DBOSDeserializationError, match="not an object of args"):
        deserialize_inputs(DEFAULT_SERIALIZER, "[1]")


def test_errors_round_trip_as_portable_workflow_errors() -> None:
    text = serialize_exception(PORTABLE_SERIALIZER, KeyError("missing"))
    error = deserialize_exception(PORTABLE_SERIALIZER, text)
    assert isinstance(error, PortableWorkflowError)
    assert (error.name, error.message) == ("KeyError", "'missing'")
    assert (error.code, error.data) == (None, None)
    assert str(error) == "'missing'"
    # Recording a read-back error again keeps its original name, not "PortableWorkflowError".
    again = serialize_exception(PORTABLE_SERIALIZER, PortableWorkflowError("m", "Conflict", 7, [1]))
    assert json.loads(again) == {"name": "Conflict", "message": "m", "code": 7, "data": [1]}


def test_portable_workflow_error_survives_both_native_formats() -> None:
    error = PortableWorkflowError("boom", "AppError", "E1", {"k": [1]})
    for serializer in (DEFAULT_SERIALIZER, PickleSerializer()):
        back = deserialize_exception(serializer, serialize_exception(serializer, error))
        assert isinstance(back, PortableWorkflowError)
        assert (back.message, back.name) == ("boom", "AppError")
        assert (back.code, back.data) == ("E1", {"k": [1]})
    assert pickle.loads(pickle.dumps(error)).name == "AppError"


def test_coerce_to_hint_restores_datetimes_and_dates() -> None:
    when = portable.coerce_to_hint("2024-01-02T03:04:05.123Z", datetime)
    assert when == datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=timezone.utc)
    assert portable.coerce_to_hint("2024-01-02T03:04:05.123Z", date) == date(2024, 1, 2)
    assert portable.coerce_to_hint("2024-02-29", date) == date(2024, 2, 29)
    assert portable.coerce_to_hint("not a date", datetime) == "not a date"
    assert portable.coerce_to_hint("2024-01-02", str) == "2024-01-02"
    assert portable.coerce_to_hint(5, datetime) == 5


def test_portable_rows_are_readable_whatever_the_configured_serializer() -> None:
    for configured in (DEFAULT_SERIALIZER, PickleSerializer(), PORTABLE_SERIALIZER):
        assert reader_for("portable_json", configured) is PORTABLE_SERIALIZER
        assert reader_for("dbos_json", configured).name() == "dbos_json"
    assert reader_for("py_pickle", PickleSerializer()).name() == "py_pickle"
    with pytest.raises(DBOSDeserializationError, match="py_pickle is not available"):
        reader_for("py_pickle", DEFAULT_SERIALIZER)
    with pytest.raises(DBOSDeserializationError, match="custom_json is not available"):
        reader_for("custom_json", PORTABLE_SERIALIZER)


def test_the_public_names() -> None:
    assert DBOSPortableJSONSerializer().name() == "portable_json"
    assert WorkflowSerializationFormat("portable") is WorkflowSerializationFormat.PORTABLE
    assert WorkflowSerializationFormat.PORTABLE == "portable"
    assert WorkflowSerializationFormat.DEFAULT.value == "None"  # as upstream spells it
    assert DBOSPortableJSONSerializer().deserialize('{"a":[1]}') == {"a": [1]}
