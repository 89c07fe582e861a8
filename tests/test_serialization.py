"""Unit tests for the value formats in dbos._serialization (no database)."""

from __future__ import annotations

import dataclasses
import enum
import io
import json
import math
import socket
import sys
import threading
import types
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pydantic
import pytest

from dbos._error import (
    DBOSDeserializationError,
    DBOSException,
    DBOSMaxStepRetriesExceeded,
    DBOSRecordedError,
    DBOSSerializationError,
    DBOSWorkflowConflictIDError,
)
from dbos._serialization import (
    DEFAULT_SERIALIZER,
    JSONSerializer,
    PickleSerializer,
    Serializer,
    deserialize_exception,
    serialize_exception,
)

S = JSONSerializer()
MODULE = __name__


# ---- module-level classes (rebuildable by name) --------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = (0, 255, 0)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mode(str, enum.Enum):
    FAST = "fast"


class Perm(enum.Flag):
    R = 1
    W = 2
    X = 4


if sys.version_info >= (3, 11):

    class Mode(enum.StrEnum):
        FAST = "fast"
        SLOW = "slow"


@dataclasses.dataclass
class Point:
    x: int
    y: float = 0.0


@dataclasses.dataclass(frozen=True)
class FrozenTag:
    name: str
    when: datetime


@dataclasses.dataclass
class Shape:
    points: list[Point]
    label: tuple[str, int]
    tags: frozenset[FrozenTag]
    meta: dict[Any, Any] = dataclasses.field(default_factory=dict)
    area: float = dataclasses.field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.area = float(len(self.points))


class Address(pydantic.BaseModel):
    city: str
    zip_code: str | None = None


class Person(pydantic.BaseModel):
    name: str
    born: date
    addresses: list[Address]
    scores: tuple[int, ...] = ()


class Flexible(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")
    user_id: int = pydantic.Field(alias="userId")
    data: Any = None


class Pair(NamedTuple):
    left: Any
    right: Any


class NotADataclass:
    def __init__(self, value: Any = None) -> None:
        self.value = value
        self.loaded = True


class Slotted:
    __slots__ = ("x",)


class PickledOwnWay:
    def __reduce__(self) -> Any:
        return (PickledOwnWay, ())


class TwoArgError(Exception):
    def __init__(self, code: int, detail: str) -> None:
        self.code = code
        self.detail = detail
        super().__init__(code, detail)


class KwOnlyError(Exception):
    def __init__(self, *, code: int) -> None:
        self.code = code
        super().__init__(f"failed with code {code}")


class FormattingError(Exception):
    """Formats its argument into the message, so cls(*exc.args) would build a different error."""

    def __init__(self, item: str) -> None:
        super().__init__(f"item {item} is broken")


def _roundtrip(value: Any, serializer: Serializer = S) -> Any:
    return serializer.deserialize(serializer.serialize(value))


def _assert_same(a: Any, b: Any) -> None:
    """Equality plus exact types all the way down (== alone says (1,) == ... and 1 == True)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    elif isinstance(a, Decimal) and a.is_nan():
        assert str(a) == str(b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif isinstance(a, (datetime, time)):
        assert a == b and a.tzinfo == b.tzinfo and a.fold == b.fold
        assert a.utcoffset() == b.utcoffset()
    else:
        assert a == b


ROUNDTRIP_VALUES: list[Any] = [
    "",
    "héllo \u2603 \U0001f600",
    "nul \x00 and lone surrogate \ud800",
    "__dbos__",
    0,
    -17,
    2**200,
    -(2**200),
    10**5000,
    0.5,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    False,
    None,
    [],
    [1, "a", None, [2.5, [True]]],
    {},
    {"a": 1, "b": {"c": [1, 2]}},
    (),
    (1,),
    (1, "a", (2, 3)),
    [(1, 2), [3, (4,)]],
    {1, 2, 3},
    set(),
    {"b", "a"},
    frozenset({1, "x", (1, 2)}),
    b"",
    b"\x00\xffbytes",
    bytearray(b"\x01\x02"),
    datetime(2024, 5, 6, 7, 8, 9, 123456),
    datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
    datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=1), "CET")),
    datetime(2024, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris")),
    datetime(2024, 11, 3, 1, 30, tzinfo=ZoneInfo("America/New_York"), fold=1),
    datetime(2024, 11, 3, 1, 30, tzinfo=ZoneInfo("America/New_York"), fold=0),
    date(1999, 12, 31),
    time(23, 59, 59, 999999),
    time(1, 2, tzinfo=timezone(timedelta(hours=3))),
    timedelta(days=-3, seconds=5, microseconds=7),
    Decimal("3.14159265358979323846264338327950288"),
    Decimal("-0"),
    Decimal("NaN"),
    Decimal("Infinity"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Color.RED,
    Color.GREEN,
    Level.HIGH,
    Perm.R | Perm.X,
    Perm.W,
    Point(1, 2.5),
    FrozenTag("t", datetime(2020, 1, 1, tzinfo=timezone.utc)),
    Address(city="Paris"),
    Person(
        name="Ann",
        born=date(1990, 1, 2),
        addresses=[Address(city="A", zip_code="1"), Address(city="B")],
        scores=(1, 2),
    ),
    Pair(1, (2, 3)),
    {1: "int key", (1, 2): "tuple key", Color.RED: "enum key", None: 0, 2.5: "float"},
    {True: "bool key"},
    {"__dbos__": "tuple", "v": [1, 2]},
    {"__dbos__": {"__dbos__": 1}, "x": (1,)},
    [{"__dbos__": "set"}],
]
if sys.version_info >= (3, 11):
    ROUNDTRIP_VALUES.append(Mode.FAST)


@pytest.mark.parametrize("value", ROUNDTRIP_VALUES, ids=lambda v: type(v).__name__)
def test_roundtrip_exact(value: Any) -> None:
    _assert_same(_roundtrip(value), value)


@pytest.mark.parametrize("value", ROUNDTRIP_VALUES, ids=lambda v: type(v).__name__)
def test_roundtrip_nested_in_containers(value: Any) -> None:
    wrapped = {"k": [value, (value,)], "t": ({"in": value},)}
    _assert_same(_roundtrip(wrapped), wrapped)


def test_enum_identity_is_preserved() -> None:
    assert _roundtrip(Color.RED) is Color.RED
    assert _roundtrip(Level.LOW) is Level.LOW


def test_zoneinfo_kept_by_key() -> None:
    value = datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
    out = _roundtrip(value)
    assert isinstance(out.tzinfo, ZoneInfo) and out.tzinfo.key == "Asia/Tokyo"


def test_named_fixed_offset_keeps_name() -> None:
    out = _roundtrip(datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1), "CET")))
    assert out.tzname() == "CET"
    assert _roundtrip(datetime(2024, 1, 1, tzinfo=timezone.utc)).tzinfo is timezone.utc


def test_nested_mix() -> None:
    shape = Shape(
        points=[Point(1), Point(2, 3.5)],
        label=("square", 4),
        tags=frozenset({FrozenTag("a", datetime(2024, 1, 1))}),
        meta={(1, 2): {Decimal("1.5"), b"x"}, "when": [timedelta(seconds=3)]},
    )
    value = {
        "shapes": (shape, shape),
        "people": {"ann": Person(name="Ann", born=date(1990, 1, 1), addresses=[Address(city="X")])},
        "ids": [uuid.UUID(int=1), uuid.UUID(int=2)],
        "by_level": {Level.LOW: (Point(0),), Level.HIGH: ()},
    }
    out = _roundtrip(value)
    assert out == value
    assert type(out["shapes"]) is tuple
    assert type(out["shapes"][0].label) is tuple
    assert out["shapes"][0].area == 2.0
    assert type(out["by_level"][Level.LOW][0]) is Point


def test_dataclass_init_false_field_restored_from_storage() -> None:
    shape = Shape(points=[Point(1)], label=("x", 1), tags=frozenset())
    shape.area = 99.0
    assert _roundtrip(shape).area == 99.0


def test_pydantic_fields_set_and_extra() -> None:
    a = Address(city="X")
    out = _roundtrip(a)
    assert out == a and out.model_fields_set == {"city"}

    b = Address(city="Y", zip_code="9")
    assert _roundtrip(b).model_fields_set == {"city", "zip_code"}


def test_pydantic_alias_extra_and_any_field() -> None:
    m = Flexible(userId=3, data=(1, {2}), other=(5,))  # type: ignore[call-arg]
    out = _roundtrip(m)
    assert out == m
    assert type(out.data) is tuple and type(out.data[1]) is set
    assert out.__pydantic_extra__ == {"other": (5,)}
    assert out.model_fields_set == m.model_fields_set


# ---- plain JSON stays plain ------------------------------------------------------------------

PLAIN_VALUES: list[Any] = [
    "text",
    "ünïcode",
    42,
    -1.25,
    True,
    None,
    [1, "two", 3.0, None, False],
    {"a": 1, "b": "x"},
    {"nested": {"list": [{"deep": [1, 2, {"x": None}]}]}, "empty": {}, "e": []},
]


@pytest.mark.parametrize("value", PLAIN_VALUES, ids=repr)
def test_plain_json_values_stay_plain(value: Any) -> None:
    text = S.serialize(value)
    assert "__dbos__" not in text
    _assert_same(json.loads(text), value)
    _assert_same(S.deserialize(text), value)


def test_plain_json_written_by_other_tools_is_readable() -> None:
    assert S.deserialize('{ "a" : [1, 2.5, "x", null, true] }') == {"a": [1, 2.5, "x", None, True]}


def test_stored_text_is_ascii_and_valid_json() -> None:
    value = {"t": (1, float("nan")), "s": "é\ud800", "b": b"\x00"}
    text = S.serialize(value)
    assert text.isascii()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard literal {c}"))


def test_tuple_is_not_silently_a_list() -> None:
    assert json.loads(S.serialize((1, 2))) != [1, 2]
    assert _roundtrip({"a": (1, 2)}) == {"a": (1, 2)}
    assert type(_roundtrip([(1,)])[0]) is tuple


# ---- tag-key escaping and non-str keys ------------------------------------------------------


def test_user_dict_with_tag_key_is_escaped() -> None:
    fake = {"__dbos__": "exception", "module": "builtins", "qualname": "ValueError"}
    text = S.serialize(fake)
    out = S.deserialize(text)
    assert out == fake and type(out) is dict


def test_user_string_containing_tag_is_plain() -> None:
    value = ["__dbos__", {"k": "__dbos__"}]
    assert json.loads(S.serialize(value)) == value
    assert _roundtrip(value) == value


@pytest.mark.parametrize(
    "value",
    [
        {1: "a", 2: "b"},
        {(1, "x"): [1], frozenset({1}): 2},
        {Color.RED: 1, Level.HIGH: 2},
        {"str": 1, 2: "mixed"},
        {date(2020, 1, 1): "d", uuid.UUID(int=5): "u", b"k": "bytes"},
        {FrozenTag("x", datetime(2020, 1, 1)): "frozen dc"},
    ],
)
def test_non_str_keys(value: dict[Any, Any]) -> None:
    out = _roundtrip(value)
    _assert_same(out, value)
    assert list(out) == list(value)


def test_int_keys_not_coerced_to_strings() -> None:
    out = _roundtrip({1: "a"})
    assert out == {1: "a"} and "1" not in out


# ---- class safety ----------------------------------------------------------------------------


def _tagged(kind: str, module: str, qualname: str, **fields: Any) -> str:
    return json.dumps({"__dbos__": kind, "module": module, "qualname": qualname, **fields})


def test_dataclass_from_unimported_module_is_refused() -> None:
    assert "definitely_not_imported_mod" not in sys.modules
    text = _tagged("dataclass", "definitely_not_imported_mod", "Thing", v={"a": 1})
    with pytest.raises(DBOSDeserializationError, match="definitely_not_imported_mod.Thing"):
        S.deserialize(text)
    assert "definitely_not_imported_mod" not in sys.modules


def test_stored_module_is_never_imported() -> None:
    # A real stdlib module that this process has not imported must stay unimported.
    name = "this"  # importing it prints the Zen of Python
    assert name not in sys.modules
    with pytest.raises(DBOSDeserializationError):
        S.deserialize(_tagged("dataclass", name, "Anything", v={}))
    assert name not in sys.modules


@pytest.mark.parametrize(
    "kind,qualname",
    [
        ("dataclass", "NotADataclass"),
        ("dataclass", "Address"),
        ("pydantic", "Point"),
        ("enum", "Point"),
        ("namedtuple", "Point"),
        ("dataclass", "_roundtrip"),  # a function, not a class
        ("dataclass", "Color.RED"),  # an enum member, not a class
    ],
)
def test_name_resolving_to_wrong_kind_is_refused(kind: str, qualname: str) -> None:
    text = _tagged(kind, MODULE, qualname, v={})
    with pytest.raises(DBOSDeserializationError, match="Cannot deserialize"):
        S.deserialize(text)


def test_exception_from_unimported_module_becomes_recorded_error() -> None:
    text = _tagged("exception", "not_imported_errors", "PaymentError", message="declined", args=[])
    out = deserialize_exception(S, text)
    assert isinstance(out, DBOSRecordedError)
    assert out.type_name == "not_imported_errors.PaymentError"
    assert out.error_message == "declined"


def test_exception_name_resolving_to_non_exception_becomes_recorded_error() -> None:
    text = _tagged("exception", MODULE, "Point", message="m", args=[1])
    out = deserialize_exception(S, text)
    assert isinstance(out, DBOSRecordedError) and out.error_message == "m"


def test_local_dataclass_is_refused_at_write_time() -> None:
    @dataclasses.dataclass
    class Local:
        a: int

    with pytest.raises(DBOSSerializationError, match="Local"):
        S.serialize([Local(1)])


# ---- corrupt text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "not json",
        '{"a": 1} trailing',
        '{"__dbos__": "no_such_tag", "v": 1}',
        '{"__dbos__": 5}',
        '{"__dbos__": ["tuple"], "v": []}',
        '{"__dbos__": "tuple"}',
        '{"__dbos__": "bytes", "v": "!!!not base64"}',
        '{"__dbos__": "datetime", "v": "yesterday"}',
        '{"__dbos__": "decimal", "v": "abc"}',
        '{"__dbos__": "uuid", "v": "xyz"}',
        '{"__dbos__": "timedelta", "v": "x"}',
        '{"__dbos__": "float", "v": "1.5"}',
        '{"__dbos__": "int", "v": "zz"}',
        '{"__dbos__": "dict", "v": [[[1], 2]]}',
        '{"__dbos__": "set", "v": [[1]]}',
        '{"__dbos__": "datetime", "v": "2024-01-01T00:00:00", "zone": "No/Such_Zone"}',
        '{"__dbos__": "enum", "module": 1, "qualname": "X", "v": 1}',
        '{"__dbos__": "exception", "module": "builtins"}',
        _tagged("dataclass", MODULE, "Point", v={"nope": 1}),
        _tagged("enum", MODULE, "Color", v="purple"),
        "[" * 100_000,
    ],
)
def test_corrupt_text_raises_deserialization_error(text: str) -> None:
    with pytest.raises(DBOSDeserializationError):
        S.deserialize(text)


def test_non_text_input_raises_deserialization_error() -> None:
    with pytest.raises(DBOSDeserializationError):
        S.deserialize(b"[]")  # type: ignore[arg-type]


def test_removed_dataclass_field_is_ignored_and_new_default_field_filled() -> None:
    text = _tagged("dataclass", MODULE, "Point", v={"x": 1, "gone": 5})
    assert S.deserialize(text) == Point(1, 0.0)


# ---- unserializable values -------------------------------------------------------------------


def _gen() -> Iterator[int]:
    yield 1


def _unserializable_cases() -> list[tuple[Any, str]]:
    return [
        (lambda: 1, "function"),
        (_gen(), "generator"),
        (threading.Lock(), "lock"),
        (io.StringIO(), "_io.StringIO"),
        (sys, "module"),
        (Slotted(), "Slotted"),
        (PickledOwnWay(), "PickledOwnWay"),
        (NotADataclass, "type"),
        (object(), "object"),
        (print, "builtin_function_or_method"),
        (datetime(2020, 1, 1, tzinfo=_OddTz()), "datetime"),
    ]


class _OddTz(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "odd"


@pytest.mark.parametrize("value,type_name", _unserializable_cases(), ids=lambda x: str(x)[:20])
def test_unserializable_value_reports_type_and_path(value: Any, type_name: str) -> None:
    payload = [{"items": [0, 1, value]}]
    with pytest.raises(DBOSSerializationError) as info:
        S.serialize(payload)
    message = str(info.value)
    assert f"type '{type_name}'" in message or type_name in message
    assert "at [0]['items'][2]:" in message
    assert "custom serializer" in message


def test_unserializable_generator_message_shape() -> None:
    with pytest.raises(DBOSSerializationError) as info:
        S.serialize([{"items": [1, 2, _gen()]}])
    assert "Cannot serialize value of type 'generator' at [0]['items'][2]: " in str(info.value)
    assert str(info.value).endswith("(configure a custom serializer or convert it)")


def test_unserializable_at_top_level() -> None:
    with pytest.raises(DBOSSerializationError, match="at the top level"):
        S.serialize(lambda: 0)


@pytest.mark.parametrize(
    "value,path",
    [
        ({"args": (1, {"k": threading.Lock()})}, "['args'][1]['k']"),
        ((Point(x=threading.Lock()),), "[0].x"),  # type: ignore[arg-type]
        ({(1, 2): [_gen()]}, "[(1, 2)][0]"),
        ({1: 2, _gen(): 3}, "[<key "),
        ({"s": {frozenset({1})}, "x": {_gen2 := object()}}, "['x']{element 0}"),
        (Pair(1, [socket.socket]), ".1[0]"),
    ],
)
def test_error_path_through_tagged_containers(value: Any, path: str) -> None:
    with pytest.raises(DBOSSerializationError) as info:
        S.serialize(value)
    assert f"at {path}" in str(info.value)


def test_socket_refused() -> None:
    with socket.socket() as sock, pytest.raises(DBOSSerializationError, match="socket"):
        S.serialize({"s": sock})


def test_open_file_refused(tmp_path: Any) -> None:
    with open(tmp_path / "f.txt", "w") as f, pytest.raises(DBOSSerializationError, match="file"):
        S.serialize([f])


def test_builtin_subclasses_refused_rather_than_losing_type() -> None:
    class MyDict(dict):  # type: ignore[type-arg]
        pass

    class MyInt(int):
        pass

    for value in (MyDict(a=1), MyInt(3)):
        with pytest.raises(DBOSSerializationError, match="subclass"):
            S.serialize({"v": value})


def test_str_subclasses_are_stored_as_the_text_they_are() -> None:
    """SQLAlchemy's `quoted_name` (the keys of `dict(row._mapping)`) and other str subclasses
    carry nothing but their text: stored as plain str, keys and values alike. A str enum keeps
    its type (a replay compares members)."""
    from sqlalchemy.sql.elements import quoted_name

    class Shouty(str):
        def __str__(self) -> str:
            return self.upper()

    value = {quoted_name("id", None): quoted_name("x", True), "s": Shouty("quiet")}
    text = S.serialize(value)
    assert json.loads(text) == {"id": "x", "s": "quiet"}
    back = S.deserialize(text)
    assert back == {"id": "x", "s": "quiet"}
    assert {type(k) for k in back} | {type(v) for v in back.values()} == {str}

    assert _roundtrip({Mode.FAST: Mode.FAST}) == {Mode.FAST: Mode.FAST}
    assert type(next(iter(_roundtrip({Mode.FAST: 1})))) is Mode


def test_sqlalchemy_rows_come_back_as_rows_and_mappings_as_dicts() -> None:
    import sqlalchemy as sa

    from dbos._serialization.rows import CompatRow

    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    users = sa.Table("users", metadata, sa.Column("id", sa.Integer), sa.Column("name", sa.String))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(users.insert(), [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
        rows = conn.execute(users.select().order_by(users.c.id)).all()
        mappings = conn.execute(users.select().order_by(users.c.id)).mappings().all()
        text_row = conn.execute(sa.text("SELECT 7 AS n, 'x' AS s")).one()
    engine.dispose()

    back = _roundtrip(rows)
    assert isinstance(back, list) and all(type(r) is CompatRow for r in back)
    first = back[0]
    # What a Row offers: index, unpack, attribute, _mapping, _fields, _asdict ...
    assert first == (1, "a") and first[1] == "a" and first.name == "a"
    row_id, name = first
    assert (row_id, name) == (1, "a")
    assert first._mapping == {"id": 1, "name": "a"} and first._asdict() == first._mapping
    assert first._fields == ("id", "name")
    # ... and what SQLAlchemy 1.x rows offered: dict(row), row["col"].
    assert dict(first) == {"id": 1, "name": "a"} and first["id"] == 1
    assert _roundtrip(text_row).s == "x"
    assert _roundtrip(tuple(rows)) == ((1, "a"), (2, "b"))

    assert _roundtrip(mappings) == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    assert all(type(m) is dict for m in _roundtrip(mappings))
    assert _roundtrip([dict(r._mapping) for r in rows])[1] == {"id": 2, "name": "b"}
    assert json.loads(S.serialize(rows[0]))["fields"] == ["id", "name"]

    # A CompatRow (what DBOS.sql_session returns) round-trips as itself, with pickle too.
    again = _roundtrip(first)
    assert type(again) is CompatRow and again.name == "a"
    pickled = PickleSerializer()
    assert pickled.deserialize(pickled.serialize(first)).name == "a"
    with pytest.raises(DBOSDeserializationError, match="row"):
        S.deserialize('{"__dbos__": "row", "fields": ["a"], "v": [1, 2]}')


def test_plain_objects_come_back_with_their_attributes_and_no_init_run() -> None:
    """An instance of a plain class (its state its __dict__, as upstream's pickle stores it) is
    stored as its attributes and rebuilt without calling __init__."""
    value = NotADataclass({"nested": (1, 2)})
    value.extra = [NotADataclass("inner")]  # type: ignore[attr-defined]
    text = S.serialize(value)
    assert json.loads(text)["__dbos__"] == "object"
    back = S.deserialize(text)
    assert type(back) is NotADataclass
    assert back.value == {"nested": (1, 2)} and back.loaded is True
    assert type(back.extra[0]) is NotADataclass and back.extra[0].value == "inner"

    class Local:
        pass

    with pytest.raises(DBOSSerializationError, match="module-level name"):
        S.serialize(Local())
    with pytest.raises(DBOSSerializationError, match=r"lock' at \[0\]\.value: locks"):
        S.serialize([NotADataclass(threading.Lock())])
    # A stored name that now refers to a class with pickling hooks (or any non-plain class)
    # is refused, not half-built.
    forged = text.replace("NotADataclass", "PickledOwnWay", 1)
    with pytest.raises(DBOSDeserializationError, match="not a plain object"):
        S.deserialize(forged)
    # Nor a class with a finalizer: it would run on attributes a tampered row chose.
    with pytest.raises(DBOSSerializationError):
        S.serialize(CleansUp("/tmp/x"))
    with pytest.raises(DBOSDeserializationError, match="not a plain object"):
        S.deserialize(text.replace("NotADataclass", "CleansUp", 1))


class CleansUp:
    def __init__(self, path: str) -> None:
        self.path = path

    def __del__(self) -> None:
        pass


def test_circular_reference_refused() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(DBOSSerializationError, match="circular"):
        S.serialize(loop)
    d: dict[str, Any] = {}
    d["self"] = (d,)
    with pytest.raises(DBOSSerializationError, match="circular"):
        S.serialize(d)


def test_shared_references_are_fine() -> None:
    shared = [1, (2,)]
    assert _roundtrip([shared, shared]) == [shared, shared]


def test_deep_nesting_refused_cleanly() -> None:
    value: Any = (1,)
    for _ in range(5000):
        value = (value,)
    with pytest.raises(DBOSSerializationError, match="nested too deeply"):
        S.serialize(value)


# ---- exceptions ------------------------------------------------------------------------------


def test_builtin_exception_roundtrip() -> None:
    out = deserialize_exception(S, serialize_exception(S, ValueError("x")))
    assert type(out) is ValueError and out.args == ("x",)


def test_key_error_message_matches() -> None:
    out = deserialize_exception(S, serialize_exception(S, KeyError("k")))
    assert type(out) is KeyError and str(out) == "'k'"


def test_custom_exception_with_two_args() -> None:
    out = deserialize_exception(S, serialize_exception(S, TwoArgError(404, "missing")))
    assert type(out) is TwoArgError
    assert out.code == 404 and out.detail == "missing"


def test_kwargs_only_exception_becomes_recorded_error() -> None:
    out = deserialize_exception(S, serialize_exception(S, KwOnlyError(code=7)))
    assert isinstance(out, DBOSRecordedError)
    assert out.type_name == f"{MODULE}.KwOnlyError"
    assert out.error_message == "failed with code 7"
    assert "KwOnlyError" in str(out) and "failed with code 7" in str(out)


def test_exception_whose_rebuild_changes_message_becomes_recorded_error() -> None:
    out = deserialize_exception(S, serialize_exception(S, FormattingError("a")))
    assert isinstance(out, DBOSRecordedError)
    assert out.error_message == "item a is broken"


def test_exception_with_unserializable_args_falls_back_to_message() -> None:
    exc = ValueError(threading.Lock())
    out = deserialize_exception(S, serialize_exception(S, exc))
    assert type(out) is ValueError and str(out) == str(exc)
    out2 = deserialize_exception(S, serialize_exception(S, TwoArgError(1, _gen())))  # type: ignore[arg-type]
    assert isinstance(out2, DBOSRecordedError) and out2.type_name.endswith("TwoArgError")


def test_exception_with_rich_args() -> None:
    exc = TwoArgError(1, "d")
    exc.args = ((1, 2), {"k": Point(1)})
    out = deserialize_exception(S, serialize_exception(S, exc))
    assert type(out) is TwoArgError and out.args == exc.args
    assert type(out.args[0]) is tuple


def test_dbos_max_step_retries_roundtrip_with_nested_errors() -> None:
    errors: list[Exception] = [ValueError("first"), TwoArgError(5, "second"), KwOnlyError(code=3)]
    exc = DBOSMaxStepRetriesExceeded("charge_card", 3, errors)
    out = deserialize_exception(S, serialize_exception(S, exc))
    assert type(out) is DBOSMaxStepRetriesExceeded
    assert out.step_name == "charge_card" and out.max_retries == 3
    assert [type(e) for e in out.errors] == [ValueError, TwoArgError, DBOSRecordedError]
    assert out.errors[1].args == (5, "second")
    # The unrebuildable last error now reads as a recorded one, still naming type and message.
    assert "KwOnlyError" in str(out) and "failed with code 3" in str(out)
    assert out.dbos_error_code == 7
    simple = DBOSMaxStepRetriesExceeded("s", 2, [ValueError("v")])
    assert str(deserialize_exception(S, serialize_exception(S, simple))) == str(simple)


def test_dbos_base_exception_roundtrip() -> None:
    exc = DBOSWorkflowConflictIDError("wf-1")
    out = deserialize_exception(S, serialize_exception(S, exc))
    assert type(out) is DBOSWorkflowConflictIDError and out.workflow_id == "wf-1"


def test_recorded_error_roundtrips_as_itself() -> None:
    exc = DBOSRecordedError("x.Y", "msg")
    out = deserialize_exception(S, serialize_exception(S, exc))
    assert type(out) is DBOSRecordedError and (out.type_name, out.error_message) == ("x.Y", "msg")


def test_exceptions_inside_values() -> None:
    value = {"errors": [ValueError("a"), TwoArgError(1, "b")], "t": (RuntimeError("c"),)}
    out = _roundtrip(value)
    assert type(out["errors"][0]) is ValueError and out["errors"][0].args == ("a",)
    assert out["errors"][1].code == 1
    assert type(out["t"]) is tuple and str(out["t"][0]) == "c"


def test_exception_containing_itself_does_not_loop() -> None:
    exc = DBOSMaxStepRetriesExceeded("s", 1, [])
    exc.errors.append(exc)
    out = deserialize_exception(S, serialize_exception(S, exc))
    assert "Step s" in str(out)


def test_deserialize_exception_refuses_non_exception() -> None:
    with pytest.raises(DBOSDeserializationError, match="not an exception"):
        deserialize_exception(S, S.serialize([1]))


def test_exception_with_broken_str() -> None:
    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    out = deserialize_exception(S, serialize_exception(S, Broken()))
    assert isinstance(out, DBOSRecordedError) and "unprintable" in out.error_message


# ---- pickle and custom serializers -----------------------------------------------------------


def test_names_and_default() -> None:
    assert JSONSerializer().name() == "dbos_json"
    assert PickleSerializer().name() == "py_pickle"
    assert isinstance(DEFAULT_SERIALIZER, JSONSerializer)

    class Custom(Serializer):
        def serialize(self, obj: Any) -> str:
            return json.dumps(obj)

        def deserialize(self, text: str) -> Any:
            return json.loads(text)

    assert Custom().name() == "custom_serializer"
    assert Custom().deserialize(Custom().serialize([1])) == [1]


def test_pickle_roundtrip() -> None:
    p = PickleSerializer()
    value = {"p": Point(1), "s": {1, 2}, "t": (1,), "c": NotADataclass}
    out = _roundtrip(value, p)
    assert out == value
    assert p.serialize(1).isascii()


def test_pickle_errors() -> None:
    p = PickleSerializer()
    with pytest.raises(DBOSSerializationError, match="lock"):
        p.serialize(threading.Lock())
    with pytest.raises(DBOSDeserializationError):
        p.deserialize("***")
    with pytest.raises(DBOSDeserializationError):
        p.deserialize("aGVsbG8=")  # valid base64, not a pickle


def test_pickle_exceptions_verified_on_write() -> None:
    p = PickleSerializer()
    out = deserialize_exception(p, serialize_exception(p, TwoArgError(1, "x")))
    assert type(out) is TwoArgError and out.code == 1
    # Pickles fine but fails on load (__init__ signature differs from args): recorded instead.
    out2 = deserialize_exception(p, serialize_exception(p, KwOnlyError(code=2)))
    assert isinstance(out2, DBOSRecordedError) and out2.error_message == "failed with code 2"


def test_custom_serializer_that_cannot_store_exceptions_gets_recorded_error() -> None:
    class Strict(Serializer):
        def serialize(self, obj: Any) -> str:
            if isinstance(obj, DBOSRecordedError):
                return json.dumps([obj.type_name, obj.error_message])
            if isinstance(obj, BaseException):
                raise TypeError("no exceptions")
            return json.dumps(obj)

        def deserialize(self, text: str) -> Any:
            data = json.loads(text)
            return DBOSRecordedError(*data) if isinstance(data, list) else data

    out = deserialize_exception(Strict(), serialize_exception(Strict(), ValueError("v")))
    assert isinstance(out, DBOSRecordedError) and out.type_name == "ValueError"


def test_dbos_exception_base_is_exception() -> None:
    # DBOSRecordedError must be catchable as an ordinary DBOS error.
    assert issubclass(DBOSRecordedError, DBOSException)


def test_types_module_objects_refused() -> None:
    with pytest.raises(DBOSSerializationError, match="module"):
        S.serialize({"m": types})
