"""Pickle is used only when the user configures it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dbos import DBOS, DBOSConfig, PickleSerializer, SetWorkflowID
from dbos.error import DBOSSerializationError


class Opaque:
    """A plain class: not JSON, not a dataclass; only pickle can store it."""

    def __init__(self, value: int) -> None:
        self.value = value


@DBOS.step()
def make_opaque(value: int) -> Opaque:
    return Opaque(value)


@DBOS.workflow()
def opaque_roundtrip(seed: Opaque) -> int:
    return make_opaque(seed.value + 1).value


def _launch(url: str, pickle: bool) -> None:
    DBOS.destroy()
    config: DBOSConfig = {"name": "pickle-app", "system_database_url": url}
    if pickle:
        config["serializer"] = PickleSerializer()
    DBOS(config=config)
    DBOS.launch()


@pytest.fixture
def url(system_database_url: str) -> Iterator[str]:
    yield system_database_url
    DBOS.destroy()


def test_default_json_serializer_refuses_arbitrary_objects(url: str) -> None:
    _launch(url, pickle=False)
    with pytest.raises(DBOSSerializationError, match="'seed'"):
        opaque_roundtrip(Opaque(1))


def test_configured_pickle_serializer_stores_them(url: str) -> None:
    _launch(url, pickle=True)
    with SetWorkflowID("pickled"):
        assert opaque_roundtrip(Opaque(1)) == 2
    status = DBOS.get_workflow_status("pickled")
    assert status is not None and status.output == 2
    assert isinstance(status.input["args"][0], Opaque)  # type: ignore[index]
    steps = DBOS.list_workflow_steps("pickled")
    assert isinstance(steps[0]["output"], Opaque)


def test_pickled_rows_are_never_unpickled_without_opting_in(url: str) -> None:
    from dbos.error import DBOSDeserializationError

    _launch(url, pickle=True)
    with SetWorkflowID("pickled-then-json"):
        assert opaque_roundtrip(Opaque(5)) == 6
    _launch(url, pickle=False)
    with pytest.raises(DBOSDeserializationError, match="py_pickle"):
        DBOS.retrieve_workflow("pickled-then-json").get_result()
    status = DBOS.get_workflow_status("pickled-then-json")
    assert status is not None and isinstance(status.output, str)  # shown raw, not unpickled
