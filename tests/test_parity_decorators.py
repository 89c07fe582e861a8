"""Upstream 2.x parity of registration and errors: decorators above `@staticmethod` and
`@classmethod` in either order, methods of classes that recovery could not find refused when
called, the runtime's transaction guarded from `commit()`, serialization errors as TypeError."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from dbos import DBOS, DBOSConfiguredInstance, SetWorkflowID
from dbos.error import DBOSException, DBOSSerializationError


@DBOS.dbos_class()
class Tools:
    @DBOS.workflow()
    @staticmethod
    def static_below(x: int) -> int:
        return Tools.static_step_below(x) + 1

    @staticmethod
    @DBOS.workflow()
    def static_above(x: int) -> int:
        return Tools.static_step_above(x) + 2

    @DBOS.step()
    @staticmethod
    def static_step_below(x: int) -> int:
        return x * 10

    @staticmethod
    @DBOS.step()
    def static_step_above(x: int) -> int:
        return x * 100

    @DBOS.workflow()
    @classmethod
    def class_below(cls, x: int) -> str:
        return f"{cls.__name__}:{cls.class_step(x)}"

    @classmethod
    @DBOS.workflow()
    def class_above(cls, x: int) -> str:
        return f"{cls.__name__}:{cls.class_step(x)}"

    @DBOS.step()
    @classmethod
    def class_step(cls, x: int) -> int:
        return x + 1000


class Unregistered:
    """A class without @DBOS.dbos_class(): recovery could not find it by name."""

    @classmethod
    @DBOS.workflow()
    def class_workflow(cls) -> str:
        return "ran"


class UnregisteredInstance(DBOSConfiguredInstance):
    def __init__(self) -> None:
        super().__init__(config_name="only")

    @DBOS.workflow()
    def instance_workflow(self) -> str:
        return "ran"


# Created once: a second instance under the same class and config name is refused.
UNREGISTERED_INSTANCE = UnregisteredInstance()


@DBOS.transaction()
def commits_itself() -> None:
    DBOS.sql_session.execute(sa.text("SELECT 1"))
    DBOS.sql_session.commit()


@DBOS.transaction()
def rolls_back_itself() -> None:
    DBOS.sql_session.rollback()


@DBOS.workflow()
def returns_a_lock() -> Any:
    import threading

    return threading.Lock()


@pytest.fixture
def launched(system_database_url: str, tmp_path: Any) -> Iterator[None]:
    DBOS.destroy()
    app_url = (
        f"sqlite:///{tmp_path / 'app.sqlite'}"
        if system_database_url.startswith("sqlite")
        else system_database_url
    )
    DBOS(
        config={
            "name": "parity-decorators",
            "system_database_url": system_database_url,
            "application_database_url": app_url,
        }
    )
    DBOS.launch()
    yield
    DBOS.destroy()


def test_static_and_class_methods_in_either_order(launched: None) -> None:
    with SetWorkflowID("static-below"):
        assert Tools.static_below(3) == 31
    with SetWorkflowID("static-above"):
        assert Tools.static_above(3) == 302
    with SetWorkflowID("class-below"):
        assert Tools.class_below(1) == "Tools:1001"
    with SetWorkflowID("class-above"):
        assert Tools.class_above(2) == "Tools:1002"
    # Each ran as a durable workflow whose step was recorded, and can be started by reference.
    for workflow_id, step_name in [
        ("static-below", "Tools.static_step_below"),
        ("static-above", "Tools.static_step_above"),
        ("class-below", "Tools.class_step"),
        ("class-above", "Tools.class_step"),
    ]:
        assert DBOS.get_workflow_status(workflow_id).status == "SUCCESS"  # type: ignore[union-attr]
        assert [s["function_name"] for s in DBOS.list_workflow_steps(workflow_id)] == [step_name]
    assert DBOS.start_workflow(Tools.class_above, 5).get_result() == "Tools:1005"
    assert DBOS.start_workflow(Tools.static_below, 5).get_result() == 51
    assert Tools().static_step_above(1) == 100  # through an instance, too


def test_methods_of_an_unregistered_class_are_refused_when_called(launched: None) -> None:
    with pytest.raises(DBOSException, match=r"Unregistered.*@DBOS\.dbos_class\(\)"):
        Unregistered.class_workflow()
    with pytest.raises(DBOSException, match=r"UnregisteredInstance.*@DBOS\.dbos_class\(\)"):
        UNREGISTERED_INSTANCE.instance_workflow()
    assert DBOS.list_workflows() == []  # refused before anything was written


def test_the_transaction_is_the_runtimes_to_commit(launched: None) -> None:
    with pytest.raises(DBOSException, match=r"commit\(\).*runtime"):
        commits_itself()
    with pytest.raises(DBOSException, match=r"rollback\(\).*runtime"):
        rolls_back_itself()


def test_a_serialization_error_is_a_type_error(launched: None) -> None:
    with pytest.raises(TypeError) as caught:
        returns_a_lock()
    assert isinstance(caught.value, DBOSSerializationError)
