"""`dbos replay FILE... --app MODULE`: the check a team runs before a deploy.

Imports the application's module (refusing a module that launches DBOS on import, which would
run its workflows against a real database), then replays every exported history against it
with `dbos.testing`'s replayer. Exit codes: 0 every history replays, 1 a divergence (printed
as `path:line: workflow ID step N: recorded NAME, called NAME`), 2 bad input (one line each:
an unreadable or truncated file, a newer format version, a workflow the app lacks, an app that
cannot be imported).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from .._admin.history_format import HistoryError, WorkflowHistory, load_histories
from .._error import DBOSException

OK, DIVERGED, BAD_INPUT = 0, 1, 2


class AppImportError(Exception):
    """The application module could not be imported for a replay."""


@contextlib.contextmanager
def _launch_refused(app: str) -> Iterator[None]:
    """While the app is imported, `DBOS.launch()` raises: a module that launches on import
    would recover and run workflows against its real database."""
    from .._facade.dbos import DBOS

    original = DBOS.__dict__["launch"]

    def refuse(cls: type) -> None:
        raise AppImportError(
            f"importing {app} calls DBOS.launch(): a replay imports the app without launching "
            "it (move the call under `if __name__ == '__main__':` or into a function)"
        )

    DBOS.launch = classmethod(refuse)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        DBOS.launch = original  # type: ignore[method-assign]


def import_app(app: str) -> ModuleType:
    """The module `app` (dotted, found from the working directory first, as `python -m` does),
    or the Python file at that path."""
    with _launch_refused(app):
        try:
            if app.endswith(".py") or os.sep in app:
                path = Path(app)
                if not path.is_file():
                    raise AppImportError(f"no such app file: {app}")
                spec = importlib.util.spec_from_file_location(path.stem, path)
                if spec is None or spec.loader is None:
                    raise AppImportError(f"cannot import {app}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[path.stem] = module
                sys.path.insert(0, str(path.resolve().parent))
                spec.loader.exec_module(module)
                return module
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            return importlib.import_module(app)
        except AppImportError:
            raise
        except ModuleNotFoundError as exc:
            raise AppImportError(f"cannot import app module {app!r}: {exc}") from None
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise AppImportError(
                f"importing {app} failed: {type(exc).__name__}: {first}".rstrip(": ")
            ) from None


def _bad_input(message: str) -> int:
    print(f"dbos: {message}", file=sys.stderr)
    return BAD_INPUT


def _replay(histories: list[WorkflowHistory], args: argparse.Namespace) -> int:
    from ..testing import ReplayDivergenceError, Replayer

    started = time.perf_counter()
    diverged = steps = 0
    with Replayer() as replayer:
        for history in histories:
            replayer.check(history)  # every bad input before the first replay
        for history in histories:
            try:
                result = replayer.replay(history)
            except ReplayDivergenceError as exc:
                print(exc, flush=True)
                diverged += 1
                if not args.keep_going:
                    return DIVERGED
                continue
            steps += result.steps_replayed
    if diverged:
        return DIVERGED
    if not args.quiet:
        took = time.perf_counter() - started
        print(
            f"replayed {len(histories)} histories ({steps} recorded steps) in {took:.2f}s: "
            "the current code follows every one"
        )
    return OK


def replay_cmd(args: argparse.Namespace) -> int:
    try:
        histories = load_histories(args.files)
        import_app(args.app)
        # The app's DBOS(config=...) set the runtime's log level; here the outcome is the message.
        logging.getLogger("dbos").setLevel(logging.ERROR)
        return _replay(histories, args)
    except (HistoryError, AppImportError) as exc:
        return _bad_input(str(exc))
    except DBOSException as exc:
        return _bad_input(f"{type(exc).__name__}: {exc}")
