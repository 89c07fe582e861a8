"""Replaying recorded histories against the current code (`dbos.testing.replay`, `dbos replay`).

Each history runs the way recovery would run it, through the same path (`launch_from_row`,
`execute`), on a runtime of its own: a temporary SQLite system database seeded with the
history, no services, current only in the replay's thread (`scoped_runtime`), so neither the
database the history came from nor a DBOS launched in this process is touched. The history's
checkpoints are a `ReplayHistory`: recorded steps return their recorded outcome, nothing runs
for real, and the run stops where the history ends (success) or where the code calls another
step than the one recorded at that number (a divergence, reported with the call's file and
line).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._admin.history_format import HistoryError, WorkflowHistory, load_histories, parse_history
from .._config import normalize_url
from .._core.launches import launch_from_row
from .._core.replay_mode import HistoryEnded, ReplayHistory, ReplayStop, StepMismatch
from .._core.running import execute
from .._core.runtime import Runtime, scoped_runtime
from .._db.history_seed import clear_workflow, seed_workflow
from .._db.system import SystemDatabase
from .._error import (
    DBOSDeserializationError,
    DBOSException,
    DBOSWorkflowFunctionNotFoundError,
)
from .._registry import registry as _registry
from .._serialization import DEFAULT_SERIALIZER, Serializer
from .._threads import DaemonPool
from .call_site import definition_site, user_frame

HistoryLike = WorkflowHistory | Mapping[str, Any] | str | Path


class ReplayDivergenceError(DBOSException, AssertionError):
    """The current code does not follow a recorded history: a recovery of that run would fail
    or take another path. `str()` is one line, `path:line: workflow ID step N: recorded NAME,
    called NAME`; the fields say the same for a program."""

    def __init__(
        self,
        workflow_id: str,
        step_id: int,
        recorded: str | None,
        called: str,
        filename: str,
        lineno: int,
        *,
        workflow_name: str = "",
        source: str = "<history>",
    ) -> None:
        self.workflow_id = workflow_id
        self.step_id = step_id
        self.recorded = recorded
        self.called = called
        self.filename = filename
        self.lineno = lineno
        self.workflow_name = workflow_name
        self.source = source  # the file the history came from
        super().__init__(
            f"{filename}:{lineno}: workflow {workflow_id} step {step_id}: "
            f"recorded {recorded or 'nothing'}, called {called}"
        )

    @classmethod
    def of(
        cls,
        history: WorkflowHistory,
        step_id: int,
        recorded: str | None,
        called: str,
        where: tuple[str, int],
    ) -> ReplayDivergenceError:
        return cls(
            history.workflow_id,
            step_id,
            recorded,
            called,
            *where,
            workflow_name=history.name,
            source=history.source,
        )

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Any:
        fields = (self.workflow_id, self.step_id, self.recorded, self.called)
        return (
            _rebuild_divergence,
            (*fields, self.filename, self.lineno, self.workflow_name, self.source),
        )


def _rebuild_divergence(*fields: Any) -> ReplayDivergenceError:
    *positional, workflow_name, source = fields
    return ReplayDivergenceError(*positional, workflow_name=workflow_name, source=source)


@dataclass(frozen=True)
class ReplayResult:
    """One history replayed without divergence."""

    workflow_id: str
    workflow_name: str
    source: str
    # Recorded steps the code went through, all matching.
    steps_replayed: int
    # Where the history ended: the step number and name the code called next, which a
    # recovery would run now. None when the workflow finished within the history.
    ended_at: tuple[int, str] | None
    # When the workflow finished within the history: what it returned, or the error it
    # raised (only where the recorded run failed too).
    result: Any = None
    error: BaseException | None = None


def _app_config() -> Mapping[str, Any]:
    """The configuration the application gave `DBOS(config=...)`, if it did (an app module
    usually does at import): its serializer and patching apply to the replay too."""
    from .._facade.dbos import DBOS

    instance = DBOS._instance
    return dict(instance._config) if instance is not None else {}


def _seed_row(history: WorkflowHistory, owner: str) -> dict[str, Any]:
    """The history's workflow as a PENDING row owned by the replay; no deadline (a replay
    waits for nothing) and the recorded times, never the clock's."""
    w = history.workflow
    attributes = w.get("attributes")
    return {
        "workflow_uuid": history.workflow_id,
        "status": "PENDING",
        "name": history.name,
        "class_name": w.get("class_name"),
        "config_name": w.get("config_name"),
        "inputs": w.get("inputs"),
        "serialization": w.get("serialization"),
        "executor_id": "dbos-replay",
        "application_version": w.get("application_version"),
        "now": int(w.get("created_at") or 0),
        "recovery_attempts": int(w.get("recovery_attempts") or 1),
        "owner_xid": owner,
        "workflow_timeout_ms": w.get("timeout_ms"),
        "workflow_deadline_epoch_ms": None,
        "parent_workflow_id": w.get("parent_workflow_id"),
        "queue_name": w.get("queue_name"),
        "authenticated_user": w.get("authenticated_user"),
        "authenticated_roles": w.get("authenticated_roles"),
        "assumed_role": w.get("assumed_role"),
        "priority": int(w.get("priority") or 0),
        "forked_from": w.get("forked_from"),
        "deduplication_id": None,
        "queue_partition_key": w.get("queue_partition_key"),
        "started_at_epoch_ms": w.get("started_at"),
        "delay_until_epoch_ms": None,
        "debounce_deadline_epoch_ms": None,
        "trace_context": None,
        "attributes": None if attributes is None else json.dumps(attributes, sort_keys=True),
    }


def as_histories(histories: HistoryLike | Iterable[HistoryLike]) -> list[WorkflowHistory]:
    """Histories from parsed ones, exported documents (dicts) or files, checked."""
    items: Iterable[Any]
    if isinstance(histories, (WorkflowHistory, Mapping, str, Path)):
        items = [histories]
    else:
        items = histories
    out: list[WorkflowHistory] = []
    for item in items:
        if isinstance(item, WorkflowHistory):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(parse_history(dict(item)))
        elif isinstance(item, (str, Path)):
            out.extend(load_histories(item))
        else:
            raise HistoryError(f"not a history, a history document or a file: {item!r}")
    return out


class Replayer:
    """A throwaway runtime that replays histories one after another; `close()` removes it.

    `serializer` and `enable_patching` default to what the application configured in
    `DBOS(config=...)` (values in a format the replay cannot read are bad input)."""

    def __init__(
        self, *, serializer: Serializer | None = None, enable_patching: bool | None = None
    ) -> None:
        config = _app_config()
        chosen = serializer or config.get("serializer") or DEFAULT_SERIALIZER
        if not isinstance(chosen, Serializer):
            raise DBOSException("the replay's serializer must be a dbos Serializer instance")
        patching = config.get("enable_patching") if enable_patching is None else enable_patching
        self._dir = tempfile.mkdtemp(prefix="dbos-replay-")
        url = normalize_url(f"sqlite:///{self._dir}/replay.sqlite")
        # Throwaway: nothing here must survive a power loss.
        sysdb = SystemDatabase(url, pool_size=2, sqlite_synchronous="OFF")
        try:
            sysdb.setup.initialize(run_migrations=True)
        except BaseException:
            sysdb.dispose()
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self.runtime = Runtime(
            sysdb=sysdb,
            serializer=chosen,
            executor_id="dbos-replay",
            app_version="dbos-replay",
            pool=DaemonPool(8, name="dbos-replay"),
            app_db=self._application_database(url),
            patching=bool(patching),
        )
        # One thread runs every replay: the runtime is current there only, and an async
        # workflow gets an event loop of its own even when the caller runs one.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="dbos-replay")
        self._lock = threading.Lock()

    @staticmethod
    def _application_database(url: Any) -> Any:
        """`@DBOS.transaction` needs an application database to exist; a replay never opens it
        (recorded transactions return their outputs, and the first unrecorded one ends it)."""
        if not any(i.kind == "transaction" for i in _registry.all_functions()):
            return None
        from .._db.application import ApplicationDatabase

        return ApplicationDatabase(url)

    def __enter__(self) -> Replayer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.runtime.shutdown()
        shutil.rmtree(self._dir, ignore_errors=True)

    # ------------------------------------------------------------------ checking

    def check(self, history: WorkflowHistory) -> None:
        """Bad input, found before anything runs: a workflow this code lacks, or values in a
        format it cannot read."""
        info = _registry.get_function(history.name)
        if info is None or info.kind != "workflow":
            known = sorted(
                i.name
                for i in _registry.all_functions()
                if i.kind == "workflow" and not _registry.is_temporary(i)
            )
            listed = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            raise HistoryError(
                f"{history.source}: workflow {history.workflow_id}: no workflow named "
                f"{history.name!r} in this code (it has: {listed or 'none'})"
            )
        formats = {history.workflow.get("serialization")}
        formats.update(s.serialization for s in history.steps.values())
        for fmt in formats:
            try:
                self.runtime.reader(fmt)
            except DBOSDeserializationError as exc:
                raise HistoryError(
                    f"{history.source}: workflow {history.workflow_id}: {exc.message}"
                ) from None

    # ------------------------------------------------------------------ replaying

    def replay(self, history: WorkflowHistory) -> ReplayResult:
        """Replay one history; raises ReplayDivergenceError or HistoryError."""
        self.check(history)
        with self._lock:
            return self._thread.submit(self._replay_here, history).result()

    def replay_all(self, histories: Iterable[WorkflowHistory]) -> Iterator[ReplayResult]:
        for history in histories:
            yield self.replay(history)

    def _replay_here(self, history: WorkflowHistory) -> ReplayResult:
        runtime = self.runtime
        owner = runtime.new_owner()
        seed_workflow(runtime.sysdb, _seed_row(history, owner), history.steps.values())
        try:
            with scoped_runtime(runtime):
                return self._run(history, owner)
        finally:
            clear_workflow(runtime.sysdb, history.workflow_id)

    def _run(self, history: WorkflowHistory, owner: str) -> ReplayResult:
        runtime = self.runtime
        row = runtime.sysdb.workflows.get_workflow(history.workflow_id)
        try:
            launch = launch_from_row(runtime, row, owner)
        except (DBOSWorkflowFunctionNotFoundError, DBOSDeserializationError) as exc:
            raise HistoryError(f"{history.source}: {exc.message}") from None
        steps = ReplayHistory(launch.recorded)
        launch.recorded = steps
        info = launch.info
        result: Any = None
        raised: BaseException | None = None
        try:
            result = execute(launch)
        except ReplayStop:
            pass  # read from `steps.stop` below, whatever the workflow did with it
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the workflow's own error (or a stop it wrapped)
            raised = exc
        stop = steps.stop
        if isinstance(stop, StepMismatch):
            raise ReplayDivergenceError.of(
                history, stop.step_id, stop.recorded, stop.called, _where(stop, info.func)
            )
        reached = _next_step(steps)
        if isinstance(stop, HistoryEnded):
            return ReplayResult(
                history.workflow_id,
                history.name,
                history.source,
                sum(1 for n in history.steps if n < stop.step_id),
                (stop.step_id, stop.called),
                None,
            )
        replayed = sum(1 for n in history.steps if n < reached)
        left = sorted(n for n in history.steps if n >= reached)
        if raised is not None:
            if isinstance(raised, DBOSDeserializationError):
                raise HistoryError(f"{history.source}: {raised.message}") from None
            if history.status == "ERROR" and not left:
                return ReplayResult(
                    history.workflow_id, history.name, history.source, replayed, None, None, raised
                )
            recorded = history.steps[left[0]].function_name if left else None
            raise ReplayDivergenceError.of(
                history,
                left[0] if left else reached,
                recorded,
                f"nothing: the workflow raised {type(raised).__name__}: {_first_line(raised)}"
                f" (the recorded run {_recorded_outcome(history)})",
                _where(raised, info.func),
            ) from raised
        if left:
            raise ReplayDivergenceError.of(
                history,
                left[0],
                history.steps[left[0]].function_name,
                "nothing: the workflow returned",
                definition_site(info.func),
            )
        return ReplayResult(
            history.workflow_id, history.name, history.source, replayed, None, result
        )


def _next_step(steps: ReplayHistory) -> int:
    """The first step number the code did not take (1 when it took none)."""
    ctx = steps.context
    return ctx.next_step if ctx is not None else 1


def _where(exc: BaseException, func: Callable[..., Any]) -> tuple[str, int]:
    return user_frame(exc.__traceback__) or definition_site(func)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _recorded_outcome(history: WorkflowHistory) -> str:
    if history.status == "ERROR":
        return "failed later"
    if history.status == "SUCCESS":
        return "returned"
    return f"had not failed: {history.status}"
