"""Patching, upstream's hand-marked evolution: a run recorded by the old code takes the old path
(its steps still line up), a fresh run takes the new one; `deprecate_patch` then retires the
marker without breaking runs that recorded it. Old runs are replayed here by forking them after
their last step, which re-runs the body over the recorded steps as recovery does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dbos import DBOS, SetWorkflowID
from dbos.error import DBOSException, DBOSPatchNondeterminismError

NAME = "test_patching.evolving"


@DBOS.step()
def old_step() -> str:
    return "old"


@DBOS.step()
def new_step() -> str:
    return "new"


@DBOS.step()
def last_step() -> str:
    return "last"


def version_1() -> str:
    return old_step() + "+" + last_step()


def version_2() -> str:
    first = new_step() if DBOS.patch("use-new-step") else old_step()
    return first + "+" + last_step()


def version_3() -> str:
    DBOS.deprecate_patch("use-new-step")
    return new_step() + "+" + last_step()


def deploy(body: Callable[[], str]) -> Callable[[], str]:
    """Register `body` as the one workflow named NAME, as a new deploy of it would."""
    return DBOS.workflow(name=NAME)(body)


@pytest.fixture
def patching(system_database_url: str) -> Iterator[None]:
    DBOS.destroy()
    DBOS(
        config={
            "name": "patching",
            "system_database_url": system_database_url,
            "enable_patching": True,
        }
    )
    DBOS.launch()
    yield
    DBOS.destroy()


def _steps(workflow_id: str) -> list[str]:
    return [s["function_name"] for s in DBOS.list_workflow_steps(workflow_id)]


def _replay(workflow_id: str) -> Any:
    """Run the current code over everything `workflow_id` recorded."""
    return DBOS.fork_workflow(workflow_id, len(_steps(workflow_id)) + 1).get_result()


def test_old_runs_take_the_old_path_and_new_runs_the_new(patching: None) -> None:
    assert DBOS.application_version == "PATCHING_ENABLED"
    with SetWorkflowID("made-by-v1"):
        assert deploy(version_1)() == "old+last"

    v2 = deploy(version_2)
    assert _replay("made-by-v1") == "old+last"  # the old path, its steps in their slots
    with SetWorkflowID("made-by-v2"):
        assert v2() == "new+last"
    assert _steps("made-by-v2") == ["DBOS.patch-use-new-step", "new_step", "last_step"]
    assert _replay("made-by-v2") == "new+last"  # the marker is found again on replay

    deploy(version_3)
    assert _replay("made-by-v2") == "new+last"  # the marker's slot is stepped over
    with SetWorkflowID("made-by-v3"):
        assert deploy(version_3)() == "new+last"
    assert _steps("made-by-v3") == ["new_step", "last_step"]  # no marker any more


def test_patch_async_in_sequential_code_and_refused_from_gathered_tasks(patching: None) -> None:
    """In the body's own code a patch takes its slot at call time; from tasks the body starts
    (asyncio.gather) it is refused, as upstream refuses it: a slot taken there depends on
    how the tasks were scheduled, and a replay could silently take the other path."""

    @DBOS.workflow(name="test_patching.async_patched")
    async def async_patched() -> list[Any]:
        first = await DBOS.patch_async("p")
        return [first, await DBOS.deprecate_patch_async("q")]

    @DBOS.workflow(name="test_patching.gathered_patches")
    async def gathered_patches() -> list[Any]:
        return list(await asyncio.gather(DBOS.patch_async("p"), DBOS.patch_async("q")))

    @DBOS.workflow(name="test_patching.gathered_deprecation")
    async def gathered_deprecation() -> list[Any]:
        return list(await asyncio.gather(DBOS.deprecate_patch_async("q")))

    with SetWorkflowID("async-patched"):
        assert asyncio.run(async_patched()) == [True, True]
    assert _steps("async-patched") == ["DBOS.patch-p"]
    for workflow_id, workflow in (
        ("gathered", gathered_patches),
        ("gathered-deprecation", gathered_deprecation),
    ):
        with (
            SetWorkflowID(workflow_id),
            pytest.raises(DBOSPatchNondeterminismError, match="concurrently"),
        ):
            asyncio.run(workflow())
        status = DBOS.get_workflow_status(workflow_id)
        assert status is not None and status.status == "ERROR"
        assert _steps(workflow_id) == []  # refused before any marker was written


def test_patching_must_be_enabled_and_inside_a_workflow(dbos: None) -> None:
    @DBOS.workflow(name="test_patching.not_enabled")
    def not_enabled() -> bool:
        return DBOS.patch("p")

    with pytest.raises(DBOSException, match="enable_patching"):
        not_enabled()
    with pytest.raises(DBOSException, match="within a workflow"):
        DBOS.patch("p")
