"""`dbos-config.yaml`, upstream DBOS's project file, as the `dbos` command reads it.

The keys are upstream's (`dbos-config.schema.json`): `name`, `language`, `database_url` (the
application database), `system_database_url`, `database.migrate` (commands `dbos migrate`
runs), `runtimeConfig.start` (commands `dbos start` runs) and `runtimeConfig.setup`, `env`;
`telemetry` and `database.app_db_name` are accepted and ignored. Before the YAML is parsed,
`${VAR}` is replaced by the environment variable (empty when unset, with a warning) and
`${DOCKER_SECRET:NAME}` by the contents of `/run/secrets/NAME`, as upstream does.

Reading YAML needs PyYAML (`pip install 'dbos-durable[config]'`); the runtime never reads
this file, only the command does.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._config import resolve_system_database_url

CONFIG_FILE = "dbos-config.yaml"
SECRETS_DIR = Path("/run/secrets")

_SECRET = re.compile(r"\$\{DOCKER_SECRET:([^}]+)\}")
_VARIABLE = re.compile(r"\$\{(?!DOCKER_SECRET:)([^}]+)\}")
_TOP_LEVEL = {
    "name",
    "language",
    "database_url",
    "system_database_url",
    "database",
    "runtimeConfig",
    "env",
    "telemetry",  # read by upstream's runtime for OTLP export; nothing to do with it here
}
_DATABASE = {"app_db_name", "migrate"}
_RUNTIME = {"start", "setup"}


class ConfigFileError(Exception):
    """The file is there but cannot be used: what is wrong, where, in one line."""


@dataclass
class ProjectConfig:
    """What the `dbos` command takes from `dbos-config.yaml`."""

    path: Path
    name: str | None = None
    database_url: str | None = None
    system_database_url: str | None = None
    migrate: list[str] = field(default_factory=list)
    start: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def system_url(self) -> str | None:
        """The system database, as the runtime derives it: `system_database_url`, else beside
        `database_url` (`<db>_dbos_sys` on PostgreSQL, the same file on SQLite), else the
        SQLite file named after the application; None if the file names none of them."""
        if not (self.system_database_url or self.database_url or self.name):
            return None
        return resolve_system_database_url(
            {
                "name": self.name or "",
                "system_database_url": self.system_database_url,
                "database_url": self.database_url,
            }
        )

    def command_environment(self) -> dict[str, str]:
        """The environment the file's commands run in: this one, plus the file's `env`."""
        return {**os.environ, **self.env}


def substitute(text: str, warn: bool = True) -> str:
    """`${VAR}` from the environment and `${DOCKER_SECRET:NAME}` from /run/secrets."""

    def secret(match: re.Match[str]) -> str:
        name = match.group(1)
        path = SECRETS_DIR / name
        try:
            return path.read_text().strip()
        except OSError:
            if warn:
                print(f"dbos: warning: Docker secret {name} is not in {path}", file=sys.stderr)
            return ""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        value = os.environ.get(name, "")
        if not value and warn:
            print(
                f"dbos: warning: {CONFIG_FILE} uses ${{{name}}}, which is not set",
                file=sys.stderr,
            )
        return value

    return _VARIABLE.sub(variable, _SECRET.sub(secret, text))


def _yaml() -> Any:
    try:
        return importlib.import_module("yaml")
    except ImportError:
        raise ConfigFileError(
            f"reading {CONFIG_FILE} needs PyYAML: pip install 'dbos-durable[config]'"
        ) from None


def _text_or_none(where: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise ConfigFileError(f"{where} must be a string, not {type(value).__name__}")


def _commands(where: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise ConfigFileError(f"{where} must be a list of shell commands (strings)")
    return list(value)


def _section(where: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigFileError(f"{where} must be a mapping, not {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise ConfigFileError(
            f"{where} has unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}"
        )
    return value


def parse(path: Path, text: str, warn: bool = True) -> ProjectConfig:
    yaml = _yaml()
    try:
        data = yaml.safe_load(substitute(text, warn))
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise ConfigFileError(f"{path} is not valid YAML: {detail}") from None
    top = _section(str(path), data, _TOP_LEVEL)
    database = _section(f"{path}: database", top.get("database"), _DATABASE)
    runtime = _section(f"{path}: runtimeConfig", top.get("runtimeConfig"), _RUNTIME)
    env = top.get("env") or {}
    if not isinstance(env, dict):
        raise ConfigFileError(f"{path}: env must be a mapping of variable names to values")
    language = top.get("language")
    if language not in (None, "python"):
        raise ConfigFileError(f"{path}: language must be python, not {language!r}")
    return ProjectConfig(
        path=path,
        name=_text_or_none(f"{path}: name", top.get("name")),
        database_url=_text_or_none(f"{path}: database_url", top.get("database_url")),
        system_database_url=_text_or_none(
            f"{path}: system_database_url", top.get("system_database_url")
        ),
        migrate=_commands(f"{path}: database.migrate", database.get("migrate")),
        start=_commands(f"{path}: runtimeConfig.start", runtime.get("start")),
        setup=_commands(f"{path}: runtimeConfig.setup", runtime.get("setup")),
        env={str(k): "" if v is None else str(v) for k, v in env.items()},
    )


def load(cwd: Path | None = None, warn: bool = True) -> ProjectConfig | None:
    """`dbos-config.yaml` of the working directory, or None when there is none."""
    path = (cwd or Path.cwd()) / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigFileError(f"cannot read {path}: {exc.strerror}") from None
    return parse(path, text, warn)
