"""The rest of upstream 2.x's listing options: `has_parent` and `was_forked_from` on workflow
lists (from DBOS and from a client), `limit`/`offset` on a workflow's steps, and a total order
for workflows created in the same millisecond."""

from __future__ import annotations

import pytest

from dbos import DBOS, DBOSClient, SetWorkflowID


@DBOS.step()
def numbered(i: int) -> int:
    return i


@DBOS.workflow()
def child(n: int) -> int:
    return sum(numbered(i) for i in range(n))


@DBOS.workflow()
def parent(n: int) -> int:
    return child(n) + numbered(100)


def _ids(statuses: list) -> list[str]:  # type: ignore[type-arg]
    return [s.workflow_id for s in statuses]


def test_has_parent_and_was_forked_from(dbos: None, system_database_url: str) -> None:
    with SetWorkflowID("top"):
        parent(3)
    (child_id,) = _ids(DBOS.list_workflows(parent_workflow_id="top"))
    with SetWorkflowID("the-fork"):
        DBOS.fork_workflow("top", 2).get_result()
    fork_children = _ids(DBOS.list_workflows(parent_workflow_id="the-fork"))

    assert set(_ids(DBOS.list_workflows(has_parent=True))) == {child_id, *fork_children}
    assert set(_ids(DBOS.list_workflows(has_parent=False))) == {"top", "the-fork"}
    assert _ids(DBOS.list_workflows(was_forked_from=True)) == ["top"]
    assert "top" not in _ids(DBOS.list_workflows(was_forked_from=False))
    assert _ids(DBOS.list_workflows(forked_from="top")) == ["the-fork"]
    with DBOSClient(system_database_url=system_database_url) as client:
        assert _ids(client.list_workflows(has_parent=False, was_forked_from=True)) == ["top"]
        assert _ids(client.list_workflows(parent_workflow_id="top")) == [child_id]


def test_steps_page_with_limit_and_offset(dbos: None, system_database_url: str) -> None:
    with SetWorkflowID("ten-steps"):
        assert child(10) == 45
    every = [s["function_id"] for s in DBOS.list_workflow_steps("ten-steps")]
    assert len(every) == 10 and every == sorted(every)
    page = DBOS.list_workflow_steps("ten-steps", limit=3, offset=4)
    assert [s["function_id"] for s in page] == every[4:7]
    assert [s["output"] for s in page] == [4, 5, 6]
    assert DBOS.list_workflow_steps("ten-steps", offset=8, limit=5)[-1]["output"] == 9
    assert DBOS.list_workflow_steps("ten-steps", limit=0) == []
    with DBOSClient(system_database_url=system_database_url) as client:
        assert [s["output"] for s in client.list_workflow_steps("ten-steps", offset=9)] == [9]
    with pytest.raises(ValueError, match="limit"):
        DBOS.list_workflow_steps("ten-steps", limit=-1)


def test_workflows_of_one_millisecond_keep_their_order(dbos: None) -> None:
    ids = [f"same-ms-{i:02d}" for i in range(30)]
    for workflow_id in ids:
        with SetWorkflowID(workflow_id):
            child(0)
    listed = _ids(DBOS.list_workflows(workflow_id_prefix="same-ms-"))
    assert listed == ids
    assert _ids(DBOS.list_workflows(workflow_id_prefix=["same-ms-"], sort_desc=True)) == ids[::-1]
    assert (
        _ids(DBOS.list_workflows(workflow_id_prefix="same-ms-", limit=5, offset=10)) == ids[10:15]
    )
