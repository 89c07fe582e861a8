"""Programs the tests run in a process of their own, to SIGKILL it mid-workflow and recover in
another (``python tests/programs/crash_app.py ...``; each says its usage). Run as scripts, they
import each other as siblings (``import crash_app``); a test that needs a program's constants
imports it as ``from programs import upstream_app``."""

from pathlib import Path


def program(name: str) -> Path:
    """The file of the program ``name`` (``program("crash_app")``), to run it."""
    return Path(__file__).resolve().with_name(f"{name}.py")
