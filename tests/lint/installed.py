"""Environments where this project is installed as a user installs it (``pip install .``).

mypy finds packages through the interpreter's site-packages, and the development venv's
editable install is a meta-path finder that mypy cannot see; so the tests that run mypy build
a venv of their own with a regular (non-editable) install of this repository and run mypy
there, as a subprocess, the plugin named in ``mypy.ini`` as a user names it.

* ``newest``: the development venv's mypy and libraries (reached through a ``.pth`` file),
  with this repository installed on top;
* ``oldest``: the oldest mypy ``pyproject.toml`` supports, in a venv of its own kept in
  ``tests/.mypy-envs/`` (git-ignored) so that it is downloaded once per machine.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENVS = REPO / "tests" / ".mypy-envs"


def oldest_supported_mypy() -> str:
    """The lower bound of the ``mypy>=`` requirement in pyproject.toml."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'"mypy>=([0-9.]+)"', text)
    assert match, "pyproject.toml names no mypy lower bound"
    version = match.group(1)
    return version if version.count(".") >= 2 else f"{version}.0"


def _site_packages(env: Path) -> Path:
    purelib = sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)})
    return Path(purelib)


def _python(env: Path) -> Path:
    return env / "bin" / "python"


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
        check=True,
        timeout=600,
        capture_output=True,
    )


@contextmanager
def _one_builder_at_a_time() -> Iterator[None]:
    """Held while pip builds this repository or touches ``ENVS``: pip builds a local project in
    its own tree (``build/``), and the pytest-xdist workers of one run share the tree and the
    oldest-mypy venv, so two modules on two workers must not build at once."""
    ENVS.mkdir(parents=True, exist_ok=True)
    with open(ENVS / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def install_here(env: Path) -> Path:
    """A fresh venv at ``env`` with this repository installed (not editable); libraries come
    from the development venv. Returns its interpreter."""
    venv.create(env, with_pip=False, clear=True)
    site = _site_packages(env)
    site.mkdir(parents=True, exist_ok=True)
    dev_site = Path(sysconfig.get_path("purelib"))
    (site / "dev-libraries.pth").write_text(f"{dev_site}\n", encoding="utf-8")
    with _one_builder_at_a_time():
        _pip("--no-deps", "--target", str(site), str(REPO))
    return _python(env)


def oldest_mypy_env() -> Path:
    """A venv with the oldest supported mypy and this repository installed; built once."""
    with _one_builder_at_a_time():
        return _build_oldest_mypy_env()


def _build_oldest_mypy_env() -> Path:
    version = oldest_supported_mypy()
    env = ENVS / f"mypy-{version}-py{sys.version_info[0]}{sys.version_info[1]}-2"
    python = _python(env)
    marker = env / "ready"
    if not marker.exists():
        venv.create(env, with_pip=False, clear=True)
        site = _site_packages(env)
        site.mkdir(parents=True, exist_ok=True)
        # Only what the fixtures import: an older mypy may not read today's sqlalchemy (the
        # runtime's imports of it are then unresolved, which mypy allows in installed code).
        _pip("--target", str(site), f"mypy=={version}", "aiohttp", "libcst", "jinja2")
        marker.write_text(version, encoding="utf-8")
    # This repository is reinstalled every session: the code under test is the working tree's.
    _pip("--no-deps", "--upgrade", "--target", str(_site_packages(env)), str(REPO))
    return python


def run_mypy(
    python: Path, cwd: Path, *files: str, flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``python -m mypy`` in ``cwd`` (which holds the ``mypy.ini``), no cache, no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYPY", "PYTHON"))}
    return subprocess.run(
        [str(python), "-m", "mypy", "--no-incremental", "--config-file", "mypy.ini",
         *flags, *files],
        cwd=cwd, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


def mypy_version(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-m", "mypy", "--version"], capture_output=True, text=True, timeout=120
    )
    return out.stdout.strip()


# ----------------------------------------------------------------------------- fixtures
# Imported by the test modules that run mypy (not a conftest.py: the suite's root conftest is
# imported by name, ``from conftest import ...``, and a second one would shadow it). The
# environments are memoized here, so modules sharing a session fixture build each one once.

_built: dict[str, Path] = {}


@pytest.fixture(scope="session")
def installed_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An interpreter whose site-packages has this repository installed (not editable)."""
    if "newest" not in _built:
        _built["newest"] = install_here(tmp_path_factory.mktemp("installed") / "venv")
    return _built["newest"]


@pytest.fixture(scope="session")
def oldest_mypy_python() -> Path:
    """The same, with the oldest mypy the project supports."""
    if "oldest" not in _built:
        _built["oldest"] = oldest_mypy_env()
    return _built["oldest"]


@pytest.fixture(scope="session", params=["newest", "oldest"])
def mypy_python(request: pytest.FixtureRequest) -> Path:
    """Both ends of the supported mypy range, one after the other."""
    name = "installed_python" if request.param == "newest" else "oldest_mypy_python"
    python: Path = request.getfixturevalue(name)
    return python
