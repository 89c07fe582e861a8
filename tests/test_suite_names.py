"""The suite's own hygiene: no two test files register a workflow, step or transaction under
the same name.

Every test module is imported at collection (and by every pytest-xdist worker), and the
registry is process-wide: a second registration of a name replaces the first, so a test that
recovers, forks or enqueues by name would run the other file's function. A clash showed up
only when both files were collected, as in the whole suite, never when one file ran alone.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).parent
_REGISTERING = ("DBOS.workflow", "DBOS.step", "DBOS.transaction")


def registered_names(path: Path) -> list[str]:
    """The names a module registers at its top level (`name=` if given, else the function's)."""
    names = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = ast.unparse(call.func if call is not None else decorator)
            if not target.startswith(_REGISTERING):
                continue
            keywords = call.keywords if call is not None else []
            given = [k.value for k in keywords if k.arg == "name"]
            names.append(ast.literal_eval(given[0]) if given else node.name)
    return names


def test_no_two_test_files_register_the_same_name() -> None:
    files_by_name: dict[str, set[str]] = defaultdict(set)
    for path in sorted(TESTS.rglob("test_*.py")):
        for name in registered_names(path):
            files_by_name[name].add(str(path.relative_to(TESTS)))
    clashes = {name: sorted(files) for name, files in files_by_name.items() if len(files) > 1}
    assert clashes == {}


def test_the_scan_finds_registrations(tmp_path: Path) -> None:
    module = tmp_path / "test_example.py"
    module.write_text(
        "@DBOS.workflow()\ndef wf(): ...\n"
        "@DBOS.step(name='custom')\nasync def st(): ...\n"
        "@DBOS.transaction\ndef tx(): ...\n"
        "def plain(): ...\n"
    )
    assert registered_names(module) == ["wf", "custom", "tx"]
