"""The pre-commit hook, run by the real ``pre-commit`` tool against a throwaway git repository.

``pre-commit try-repo`` installs a hook repository from a commit, so the current working tree is
copied into a temporary git repository and committed there; the user's repository is another
temporary git repository. PRE_COMMIT_HOME points into tmp_path, so nothing outside is touched.
This is the one slow test: pre-commit builds a venv and pip-installs the project once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lint_support import REPO

BAD = """\
import time
from dbos import DBOS


@DBOS.workflow()
def wf() -> float:
    return time.time()
"""
GOOD = """\
from dbos import DBOS


@DBOS.workflow()
def wf() -> None:
    DBOS.sleep(1)
"""


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _snapshot_working_tree(dest: Path) -> None:
    """Tracked and untracked-but-not-ignored files of the checkout, committed in ``dest``."""
    listed = _git(REPO, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    if not (dest / "README.md").exists():  # pyproject's readme; needed by pip install .
        (dest / "README.md").write_text("# dbos-durable\n")
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "snapshot")


@pytest.mark.timeout(900)
def test_hook_runs_through_pre_commit_try_repo(tmp_path: Path) -> None:
    pre_commit = Path(sys.executable).with_name("pre-commit")
    assert pre_commit.exists(), "pre-commit must be installed in the test venv"
    hook_repo = tmp_path / "hook-repo"
    hook_repo.mkdir()
    _snapshot_working_tree(hook_repo)
    assert (hook_repo / ".pre-commit-hooks.yaml").exists()

    user = tmp_path / "user-repo"
    user.mkdir()
    _git(user, "init", "-q")
    (user / "flows.py").write_text(BAD)
    (user / "other.py").write_text(GOOD)
    (user / "notes.txt").write_text("time.time()\n")
    _git(user, "add", "-A")

    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("VIRTUAL_ENV", None)
    command = [str(pre_commit), "try-repo", str(hook_repo), "dbos-compile-check", "--all-files"]

    failing = subprocess.run(command, cwd=user, env=env, capture_output=True, text=True)
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "flows.py:7:12: DBOS111" in output, output
    assert "other.py:" not in output and "notes.txt" not in output

    (user / "flows.py").write_text(GOOD)
    _git(user, "add", "-A")
    passing = subprocess.run(command, cwd=user, env=env, capture_output=True, text=True)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
