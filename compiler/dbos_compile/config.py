"""``[tool.dbos-compile]`` configuration, found by walking up from the checked paths.

The nearest pyproject.toml that has a ``[tool.dbos-compile]`` table wins (like ruff and Fixit's
upward search); its directory is the project root, which anchors ``exclude`` globs and the cache.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbos_lint import Settings

if sys.version_info >= (3, 11):
    import tomllib

    def _load_toml(text: str) -> dict[str, Any]:
        return tomllib.loads(text)

    _TomlError: type[Exception] = tomllib.TOMLDecodeError
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli  # type: ignore[import-not-found, unused-ignore]

    def _load_toml(text: str) -> dict[str, Any]:
        return dict(tomli.loads(text))

    _TomlError = tomli.TOMLDecodeError

SECTION = "dbos-compile"


class ConfigError(Exception):
    """A configuration the user must fix; the CLI turns it into exit status 2."""


@dataclass(frozen=True)
class Config:
    root: Path
    source: Path | None = None
    settings: Settings = field(default_factory=Settings)
    exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def is_excluded(self, path: Path) -> bool:
        try:
            relative = path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            relative = path.as_posix()
        candidates = (relative, path.as_posix(), path.name)
        for pattern in self.exclude:
            stripped = pattern.rstrip("/")
            for candidate in candidates:
                if fnmatch.fnmatch(candidate, pattern) or fnmatch.fnmatch(candidate, stripped):
                    return True
                if candidate.startswith(stripped + "/") and not any(c in stripped for c in "*?["):
                    return True
        return False


def _string_list(table: dict[str, Any], key: str, source: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: [tool.{SECTION}] {key} must be a list of strings")
    return tuple(v.strip() for v in value)


_KNOWN_KEYS = {"extra-forbidden", "extra-allowed", "exclude", "select", "ignore"}


def _parse(path: Path) -> dict[str, Any] | None:
    try:
        data = _load_toml(path.read_text(encoding="utf-8"))
    except (OSError, _TomlError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc
    table = data.get("tool", {}).get(SECTION)
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{SECTION}] must be a table")
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown [tool.{SECTION}] keys: {', '.join(unknown)}")
    return table


def find_config_file(start: Path) -> Path | None:
    start = start.resolve()
    for directory in (start, *start.parents) if start.is_dir() else start.parents:
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _parse(candidate) is not None:
            return candidate
    return None


def load_config(paths: Sequence[Path], cwd: Path, explicit: Path | None = None) -> Config:
    """Configuration for a run: an explicit file, else the nearest one above cwd or the paths."""
    source = explicit
    if source is None:
        for start in (cwd, *paths):
            source = find_config_file(start)
            if source is not None:
                break
    if source is None:
        return Config(root=cwd.resolve())
    table = _parse(source) or {}
    settings = Settings(
        extra_forbidden=frozenset(_string_list(table, "extra-forbidden", source)),
        extra_allowed=frozenset(_string_list(table, "extra-allowed", source)),
    )
    return Config(
        root=source.parent.resolve(),
        source=source,
        settings=settings,
        exclude=_string_list(table, "exclude", source),
        select=_string_list(table, "select", source),
        ignore=_string_list(table, "ignore", source),
    )
