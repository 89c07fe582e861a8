"""A regular ``pip install .`` ships every package and data file the source tree has (an
editable install would hide a missing one: it maps whole directories)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import installed
from installed import REPO

# Session fixtures shared with the other modules that run mypy (see installed.py).
installed_python = installed.installed_python


ROOTS = {
    "dbos": "runtime/dbos",
    "dbos_compile": "compiler/dbos_compile",
    "dbos_lint": "lint_rules/dbos_lint",
}


_SITE_OF_DBOS = "import dbos, os; print(os.path.dirname(os.path.dirname(dbos.__file__)))"


def _source_files() -> set[str]:
    found = set()
    for name, root in ROOTS.items():
        base = REPO / root
        for path in base.rglob("*"):
            if "__pycache__" in path.parts or path.is_dir() or path.suffix == ".pyc":
                continue
            found.add(f"{name}/{path.relative_to(base).as_posix()}")
    return found


def test_installed_package_has_every_module_and_template(installed_python: Path) -> None:
    site = Path(
        subprocess.run(
            [str(installed_python), "-c", _SITE_OF_DBOS],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()
    )  # fmt: skip
    installed = {
        p.relative_to(site).as_posix()
        for name in ROOTS
        for p in (site / name).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    wanted = _source_files()
    assert any(f.endswith(".jinja") for f in wanted)  # the code generator's templates
    assert wanted - installed == set()
    # What users import works from the installed copy, not from this checkout.
    probe = subprocess.run(
        [str(installed_python), "-c",
         "import dbos, dbos._core.checkpoint, dbos_compile.cli, dbos_lint.mypy_plugin; "
         "print(dbos.__file__)"],
        capture_output=True, text=True, timeout=60, cwd="/",
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert str(REPO) not in probe.stdout
