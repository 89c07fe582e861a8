"""pyproject configuration and the result cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lint_support import dbos_compile

import dbos_compile.runner as runner
import dbos_lint
from dbos_compile.cache import ResultCache, ruleset_key
from dbos_compile.config import load_config
from dbos_lint import Settings

WORKFLOW = """\
import time
from myapp import flags
from dbos import DBOS


@DBOS.workflow()
def wf() -> float:
    flags.is_enabled("beta")
    return time.time()
"""


def _project(root: Path, config: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n{config}")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text(WORKFLOW)
    (root / "src" / "generated").mkdir()
    (root / "src" / "generated" / "gen.py").write_text(WORKFLOW)
    return root


def test_config_found_by_walking_up_from_cwd(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        "[tool.dbos-compile]\n"
        'extra-forbidden = ["myapp.flags.is_enabled"]\n'
        'extra-allowed = ["time.time"]\n'
        'exclude = ["src/generated/*"]\n',
    )
    result = dbos_compile("check", "--no-cache", ".", cwd=root / "src")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "app.py:8:5: DBOS901 `myapp.flags.is_enabled` is listed as forbidden in workflows by the"
        " project's [tool.dbos-compile] extra-forbidden setting; call it from a @DBOS.step()"
    ]


def test_config_found_from_the_checked_path(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", '[tool.dbos-compile]\nexclude = ["src/generated"]\n')
    result = dbos_compile("check", "--no-cache", str(root / "src"), cwd=tmp_path)
    assert [line.split(" ")[1] for line in result.stdout.splitlines()] == ["DBOS111"]
    assert "generated" not in result.stdout


def test_config_select_and_bad_config(tmp_path: Path) -> None:
    root = _project(tmp_path, '[tool.dbos-compile]\nignore = ["DBOS111"]\n')
    result = dbos_compile("check", "--no-cache", "src/app.py", cwd=root)
    assert (result.returncode, result.stdout) == (0, "")
    (root / "pyproject.toml").write_text("[tool.dbos-compile]\nextra-forbiden = []\n")
    broken = dbos_compile("check", "src/app.py", cwd=root)
    assert broken.returncode == 2 and "extra-forbiden" in broken.stderr


def test_second_run_uses_cache_and_prints_the_same_findings(tmp_path: Path) -> None:
    root = _project(tmp_path, "[tool.dbos-compile]\n")
    first = dbos_compile("check", "src", cwd=root)
    assert first.returncode == 1 and first.stdout.count("DBOS111") == 2
    cache_dir = root / ".dbos-compile-cache"
    entries = list(cache_dir.glob("*/*.json"))
    assert len(entries) == 1  # two files, same content: one entry
    second = dbos_compile("check", "src", cwd=root)
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)


def test_cache_skips_analysis_of_unchanged_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, "[tool.dbos-compile]\n")
    config = load_config([root / "src"], root)
    calls: list[bytes] = []
    real = runner.check_source

    def counting(content: bytes, *args: object, **kwargs: object) -> object:
        calls.append(content)
        return real(content, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "check_source", counting)
    cache = ResultCache(root / ".dbos-compile-cache", config.settings)
    first = runner.run_check([root / "src"], config, cache=cache)
    assert len(calls) == 1  # identical contents are analysed once
    second = runner.run_check([root / "src"], config, cache=cache)
    assert len(calls) == 1 and second.cache_hits == 2
    assert [f.findings for f in second.files] == [f.findings for f in first.files]

    (root / "src" / "app.py").write_text(WORKFLOW + "\n\nX = 1\n")
    third = runner.run_check([root / "src"], config, cache=cache)
    assert len(calls) == 2 and third.cache_hits == 1

    # A configuration change (here: extra-forbidden) must miss the cache, not reuse results.
    (root / "pyproject.toml").write_text(
        '[tool.dbos-compile]\nextra-forbidden = ["myapp.flags.is_enabled"]\n'
    )
    config = load_config([root / "src"], root)
    cache = ResultCache(root / ".dbos-compile-cache", config.settings)
    fourth = runner.run_check([root / "src"], config, cache=cache)
    assert fourth.cache_hits == 0 and fourth.count == 4


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path, "[tool.dbos-compile]\n")
    dbos_compile("check", "--no-cache", "src", cwd=root)
    assert not (root / ".dbos-compile-cache").exists()


def test_cache_lives_in_cwd_without_config(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(WORKFLOW)
    result = dbos_compile("check", "m.py", cwd=tmp_path)
    assert result.returncode == 1
    assert (tmp_path / ".dbos-compile-cache" / ".gitignore").read_text() == "*\n"


def test_configured_names_apply_to_the_projects_own_modules(tmp_path: Path) -> None:
    """``myapp`` is part of the project here: its functions are followed, and the
    configuration still names them by their import path."""
    (tmp_path / "pyproject.toml").write_text(
        "[tool.dbos-compile]\n"
        'extra-forbidden = ["myapp.flags.is_enabled"]\n'
        'extra-allowed = ["myapp.cache"]\n'
    )
    package = tmp_path / "src" / "myapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "flags.py").write_text("def is_enabled(name: str) -> bool:\n    return True\n")
    (package / "cache.py").write_text(
        "import time\n\n\ndef remember(key: str) -> float:\n    return time.time()\n"
    )
    (package / "clock.py").write_text(
        "import time\n\n\ndef now() -> float:\n    return time.time()\n"
    )
    (package / "flows.py").write_text(
        "from dbos import DBOS\nfrom myapp import flags\nfrom myapp.cache import remember\n"
        "from myapp.clock import now\n\n\n@DBOS.workflow()\ndef wf() -> float:\n"
        '    remember("k")\n    return now() if flags.is_enabled("beta") else 0.0\n'
    )
    result = dbos_compile("check", "--no-cache", "src", cwd=tmp_path)
    assert [line.split(" ", 2)[:2] for line in result.stdout.splitlines()] == [
        ["src/myapp/clock.py:5:12:", "DBOS111"],
        ["src/myapp/flows.py:10:21:", "DBOS901"],
    ]


def test_editing_any_module_of_the_linter_changes_the_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key hashes the linter's own sources, subpackages included: a rule edited in
    ``catalogue/`` or a check in ``checks/`` must not be answered from an old result."""
    copy = tmp_path / "dbos_lint"
    shutil.copytree(Path(dbos_lint.__file__).parent, copy)
    monkeypatch.setattr(dbos_lint, "__file__", str(copy / "__init__.py"))
    keys = {ruleset_key(Settings())}
    for edited in ("catalogue/dbos30x_concurrency.py", "checks/dbos501_set_order.py"):
        with (copy / edited).open("a", encoding="utf-8") as source:
            source.write("\n# edited\n")
        keys.add(ruleset_key(Settings()))
    assert len(keys) == 3
