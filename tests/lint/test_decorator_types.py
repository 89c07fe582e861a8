"""The decorators and ``start_workflow``/``enqueue``/``get_result`` are precisely typed with no
plugin: real mypy (``--strict``, newest and oldest supported) on a fixture file, against this
package as installed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import installed
from installed import mypy_version, run_mypy

# Session fixtures shared with the other modules that run mypy (see installed.py).
installed_python = installed.installed_python
mypy_python = installed.mypy_python
oldest_mypy_python = installed.oldest_mypy_python


FIXTURES = Path(__file__).parent / "mypy_fixtures"
_ERROR = re.compile(r"^(?P<file>[\w.]+):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")
_MARK = re.compile(r"#\s*type-error$")


def _marked(path: Path) -> set[int]:
    return {
        number
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _MARK.search(line)
    }


def test_decorated_functions_keep_precise_types(mypy_python: Path, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "decorator_types.py", tmp_path)
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n", encoding="utf-8")
    result = run_mypy(mypy_python, tmp_path, "decorator_types.py")
    found = set()
    unexpected = []
    for line in result.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            found.add(int(match.group("line")))
        elif ": error:" in line:
            unexpected.append(line)
    expected = _marked(FIXTURES / "decorator_types.py")
    assert len(expected) >= 10
    where = f"{mypy_version(mypy_python)}\n{result.stdout}{result.stderr}"
    assert not unexpected, where
    assert found == expected, where
    assert result.returncode == 1, where
