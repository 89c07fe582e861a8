"""Every ```python block of the documentation runs, so the docs cannot drift from the code.

Collected from ``docs/**/*.md`` (but the generated ``docs/rules.md``) and ``README.md``. Each
block is a whole program, run by this venv's Python in a subprocess whose working directory is
a fresh temporary directory.

The convention the snippets follow (``docs/index.md`` states it for readers too): a snippet's
config takes ``"system_database_url": os.environ.get("DBOS_SYSTEM_DATABASE_URL")``, as the
seed's first example does. Unset, that is the runtime's default, a SQLite file named after the
app in the working directory: a fresh file here, since every run gets its own directory. The
PostgreSQL half sets it to a throwaway database of the test server.

An HTML comment on the line above a block (blank lines between are allowed) says how to run it:

``<!-- snippet: needs-postgres -->``
    runs only in the PostgreSQL half (it uses something SQLite lacks).
``<!-- snippet: pytest -->``
    a test module: run by ``python -m pytest`` (the package's pytest plugin supplies its
    fixtures), on SQLite.
``<!-- snippet: fragment -->``
    a piece of a larger program (or one needing a server or a package the suite does not
    install): only compiled. Keep these few.

Any other value is an error here, so a typo cannot silently exempt a block. The blocks run in
parallel subprocesses (a module-scoped fixture), and each block is its own test id
(``docs/queues.md:42``), so a failure names the file and line of the block.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import postgres_or_skip, throwaway_database_url

REPO = Path(__file__).resolve().parent.parent
# docs/rules.md is generated from the checker's catalogue: its blocks are the rules' examples of
# flagged code (tested by tests/lint against the checker), not programs.
GENERATED = {REPO / "docs" / "rules.md"}
SOURCES = sorted(set((REPO / "docs").rglob("*.md")) - GENERATED) + [REPO / "README.md"]
KINDS = ("run", "needs-postgres", "pytest", "fragment")
# Subprocesses at once: the machine has 2 cores, and a snippet spends much of its time waiting
# on fsync, so a few more than the cores keep them busy.
PARALLEL = 4
SNIPPET_TIMEOUT_S = 120

_FENCE_OPEN = re.compile(r"^(\s*)```python\s*$")
_MARKER = re.compile(r"^\s*<!--\s*snippet:\s*([\w-]+)\s*-->\s*$")


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int  # 1-based line of the opening fence
    kind: str
    code: str

    @property
    def ident(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def collect(path: Path) -> Iterator[Snippet]:
    """The ```python blocks of one markdown file, each with the marker above it (if any)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if not opening:
            i += 1
            continue
        indent = len(opening.group(1))
        kind = "run"
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0 and "snippet:" in lines[j]:
            marker = _MARKER.match(lines[j])
            kind = marker.group(1) if marker else lines[j].strip()
        body: list[str] = []
        k = i + 1
        while k < len(lines) and lines[k].strip() != "```":
            body.append(lines[k][indent:] if lines[k][:indent].isspace() else lines[k])
            k += 1
        if k == len(lines):
            raise AssertionError(f"{path.relative_to(REPO)}:{i + 1}: unclosed ```python block")
        yield Snippet(path, i + 1, kind, "\n".join(body) + "\n")
        i = k + 1


ALL = [snippet for source in SOURCES for snippet in collect(source)]


def _of(*kinds: str) -> list[Snippet]:
    return [s for s in ALL if s.kind in kinds]


def _params(snippets: list[Snippet]) -> list[object]:
    return [pytest.param(s, id=s.ident) for s in snippets]


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str


def _run(snippet: Snippet, env_overrides: dict[str, str]) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="dbos-snippet-") as cwd:
        name = "test_snippet.py" if snippet.kind == "pytest" else "snippet.py"
        script = Path(cwd) / name
        # Line numbers in a traceback match the markdown: pad with the lines above the block.
        script.write_text("\n" * snippet.line + snippet.code, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBOS_")}
        env.update(env_overrides)
        env["PYTHONPATH"] = cwd
        if snippet.kind == "pytest":
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name]
        else:
            command = [sys.executable, name]
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=SNIPPET_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as timeout:
            return Outcome(-1, f"timed out after {SNIPPET_TIMEOUT_S}s\n{timeout.output or ''}")
        return Outcome(done.returncode, done.stdout + done.stderr)


def _run_all(jobs: list[tuple[Snippet, dict[str, str]]]) -> dict[str, Outcome]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(lambda job: _run(*job), jobs))
    return {snippet.ident: outcome for (snippet, _), outcome in zip(jobs, outcomes, strict=True)}


def _assert_ran(snippet: Snippet, outcome: Outcome) -> None:
    assert outcome.returncode == 0, (
        f"{snippet.ident}: the {snippet.kind} snippet exited {outcome.returncode}:\n"
        f"{outcome.output[-4000:]}"
    )


# --------------------------------------------------------------------------- the collection
def test_every_block_has_a_known_kind() -> None:
    unknown = [f"{s.ident}: {s.kind!r}" for s in ALL if s.kind not in KINDS]
    assert not unknown, f"unknown snippet markers (known: {', '.join(KINDS)}): {unknown}"


def test_the_docs_have_runnable_snippets() -> None:
    """Guards the collector itself: a broken fence pattern would make every test below vacuous."""
    assert len(_of("run")) >= 20, [s.ident for s in ALL]
    assert _of("needs-postgres") and _of("pytest")
    fragments = _of("fragment")
    assert len(fragments) * 5 <= len(ALL), f"too many fragments: {[s.ident for s in fragments]}"


def test_the_collector_reads_markers_and_indents(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n<!-- snippet: fragment -->\n\n```python\nx = (\n```\n\n"
        "1. a list item\n\n   ```python\n   print('indented')\n   ```\n",
        encoding="utf-8",
    )
    fragment, indented = collect(page)
    assert (fragment.kind, fragment.line, fragment.code) == ("fragment", 5, "x = (\n")
    assert (indented.kind, indented.code) == ("run", "print('indented')\n")


# --------------------------------------------------------------------------- fragments
@pytest.mark.parametrize("snippet", _params(_of("fragment")))
def test_fragment_compiles(snippet: Snippet) -> None:
    compile(snippet.code, snippet.ident, "exec")


# --------------------------------------------------------------------------- SQLite half
@pytest.fixture(scope="module")
def sqlite_outcomes() -> dict[str, Outcome]:
    return _run_all([(s, {}) for s in _of("run", "pytest")])


@pytest.mark.parametrize("snippet", _params(_of("run", "pytest")))
def test_snippet_runs_on_sqlite(snippet: Snippet, sqlite_outcomes: dict[str, Outcome]) -> None:
    _assert_ran(snippet, sqlite_outcomes[snippet.ident])


# --------------------------------------------------------------------------- PostgreSQL half
@pytest.fixture(scope="module")
def postgres_outcomes(postgres_server_url: str | None) -> Iterator[dict[str, Outcome]]:
    server_url = postgres_or_skip(postgres_server_url)
    with ExitStack() as databases:
        jobs = []
        for snippet in _of("needs-postgres"):
            url = databases.enter_context(throwaway_database_url(server_url))
            jobs.append((snippet, {"DBOS_SYSTEM_DATABASE_URL": url}))
        yield _run_all(jobs)


@pytest.mark.parametrize("snippet", _params(_of("needs-postgres")))
def test_snippet_runs_on_postgres(snippet: Snippet, postgres_outcomes: dict[str, Outcome]) -> None:
    _assert_ran(snippet, postgres_outcomes[snippet.ident])
