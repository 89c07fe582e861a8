"""DBOS201: the file system, whose contents can change before recovery.

Detected by ``checks/calls.py`` from the tables below: a call resolving to one of ``CALLS``
(pathlib's I/O methods on any ``Path``, however it was built), or into a module of
``MODULES``; any method of a ``CLIENTS`` object (an open file). The mypy plugin reads the same
tables.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

FILESYSTEM = "DBOS201"

_OS_FILES = (
    "listdir scandir walk fwalk remove unlink rename renames replace mkdir makedirs rmdir "
    "removedirs stat lstat chmod chown link symlink readlink truncate utime access open "
    "read write fdopen mkfifo chdir"
).split()
_OS_PATH_FS = (
    "exists lexists isfile isdir islink ismount getsize getmtime getatime getctime "
    "realpath samefile expanduser"
).split()

#: pathlib methods that touch the file system (constructing or joining a Path does not).
PATH_IO_METHODS: frozenset[str] = frozenset(
    (
        "open read_text read_bytes write_text write_bytes exists is_file is_dir is_symlink "
        "is_mount iterdir glob rglob walk stat lstat mkdir rmdir unlink touch rename replace "
        "resolve absolute samefile chmod owner group readlink symlink_to hardlink_to "
        "expanduser cwd home"
    ).split()
)
PATH_CLASSES: frozenset[str] = frozenset(
    f"pathlib.{c}" for c in ("Path", "PosixPath", "WindowsPath")
)

RULES: tuple[Rule, ...] = (
    Rule(
        code=FILESYSTEM,
        name="filesystem-in-workflow",
        summary="A workflow touches the file system (`open`, pathlib I/O, `os`, `shutil`...).",
        message="`{name}` touches the file system in a workflow; file contents and listings "
        "can change before recovery, so do it in a @DBOS.step()",
        why="Files can change, vanish or list in a different order between the original run and "
        "its recovery (possibly on another host), and writes are repeated on every replay.",
        fix="Move the read or write into a `@DBOS.step()` and pass the data through its return "
        "value. Pure path manipulation (`os.path.join`, `Path(a) / b`) is fine.",
        flagged=(
            _wf('data = open("config.json").read()'),
            _wf('text = Path("in.txt").read_text()', head="from pathlib import Path\n"),
            _wf('shutil.copy("a", "b")', head="import shutil\n"),
            _wf('names = os.listdir(".")', head="import os\n"),
            "from pathlib import Path\nfrom dbos import DBOS\n\n"
            "ROOT = Path(__file__).parent\n\n\n"
            '@DBOS.workflow()\ndef wf() -> str:\n    return (ROOT / "rates.json").read_text()\n',
        ),
        not_flagged=(
            _wf(
                'p = os.path.join("a", "b")\nq = Path("a") / "b"',
                head="import os\nfrom pathlib import Path\n",
            ),
            "from pathlib import Path\nfrom dbos import DBOS\n\n"
            "ROOT = Path(__file__).parent\n\n\n"
            "@DBOS.workflow()\ndef wf() -> str:\n"
            '    return (ROOT / "rates.json").with_suffix(".toml").name\n',
        ),
    ),
)

FAMILY = Family(
    rules=RULES,
    calls={
        "builtins.open": FILESYSTEM,
        "io.open": FILESYSTEM,
        **{f"os.{f}": FILESYSTEM for f in _OS_FILES},
        **{f"os.path.{f}": FILESYSTEM for f in _OS_PATH_FS},
        **{f"{p}.{m}": FILESYSTEM for p in PATH_CLASSES for m in PATH_IO_METHODS},
    },
    modules={m: FILESYSTEM for m in ("shutil", "tempfile", "glob", "fileinput", "shelve")},
    clients={
        cls: FILESYSTEM
        for cls in (
            "io.TextIOWrapper",
            "io.BufferedReader",
            "io.BufferedWriter",
            "io.BufferedRandom",
            "io.FileIO",
            "tempfile.TemporaryDirectory",
            "tempfile.NamedTemporaryFile",
            "tempfile.SpooledTemporaryFile",
            "shelve.Shelf",
        )
    },
    mypy_aliases={
        "posixpath.exists": "os.path.exists",
        "posixpath.isfile": "os.path.isfile",
        "posixpath.isdir": "os.path.isdir",
        "posixpath.getsize": "os.path.getsize",
        "posixpath.getmtime": "os.path.getmtime",
        "genericpath.exists": "os.path.exists",
        "genericpath.isfile": "os.path.isfile",
        "genericpath.isdir": "os.path.isdir",
        "genericpath.getsize": "os.path.getsize",
        "genericpath.getmtime": "os.path.getmtime",
        "io.open": "builtins.open",
    },
)
