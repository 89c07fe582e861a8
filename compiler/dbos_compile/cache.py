"""Per-file result cache so an unchanged file is not re-analysed on the next commit.

An entry is keyed by the file's content hash *and* a rule-set key (tool version, a hash of the
checker's own source files, and the settings that change findings). Any change to the file, the
rules or the configuration therefore misses the cache; a hit replays the exact findings stored
(suppressions included, since they live in the content), so the cache cannot hide a finding.
``--select``/``--ignore`` are applied after the cache and are deliberately not part of the key.

Since workflows' helpers are followed into other project modules, a result also depends on those
files: see :class:`ResultCache` for how that is recorded and checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dbos_lint
from dbos_lint import Finding, ProjectTrace, Settings

CACHE_DIR_NAME = ".dbos-compile-cache"
_FORMAT = 2


def _package_fingerprint() -> str:
    """Hash of the checker's source: editing a rule during development invalidates the cache."""
    digest = hashlib.sha256()
    package = Path(dbos_lint.__file__).parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def ruleset_key(settings: Settings) -> str:
    material = f"{_FORMAT}|{dbos_lint.__version__}|{_package_fingerprint()}|"
    material += settings.fingerprint()
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def _record(path: Path, findings: list[Finding], trace: ProjectTrace) -> dict[str, Any]:
    return {
        # A result that involved no project file is valid wherever the content is found.
        "origin": None if trace.portable else path.as_posix(),
        "findings": [f.to_dict() for f in findings],
        "resolutions": [[imp, mod, found] for (imp, mod), found in trace.resolutions.items()],
        "deps": trace.deps,
        "foreign": {
            helper: [f.to_dict() for f in found] for helper, found in trace.foreign.items()
        },
    }


def _from_record(record: dict[str, Any]) -> tuple[list[Finding], ProjectTrace]:
    trace = ProjectTrace(
        resolutions={(str(i), str(m)): f for i, m, f in record["resolutions"]},
        deps={str(k): str(v) for k, v in record["deps"].items()},
        foreign={
            str(helper): [Finding.from_dict(item) for item in found]
            for helper, found in record["foreign"].items()
        },
    )
    return [Finding.from_dict(item) for item in record["findings"]], trace


class ResultCache:
    """Entries are keyed by content hash; each holds up to ``MAX_RECORDS`` results for that
    content, one per place it was found at when the result depended on its imports.

    A file's findings depend on the project files its workflows reach, so a record keeps what
    each import resolved to and the content hash of every file read; it is only replayed when
    all of them are still the same (``Project.still_valid``): editing, adding or deleting a
    helper module makes the workflow's file be analysed again.
    """

    MAX_RECORDS = 8

    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = directory / ruleset_key(settings)
        self.hits = 0
        self.misses = 0

    def _entry(self, content: bytes) -> Path:
        return self.directory / f"{hashlib.sha256(content).hexdigest()}.json"

    def _records(self, content: bytes) -> list[dict[str, Any]]:
        try:
            data = json.loads(self._entry(content).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        records = data.get("records") if isinstance(data, dict) else None
        return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []

    def get(
        self,
        content: bytes,
        path: Path,
        still_valid: Callable[[Path, ProjectTrace], bool],
    ) -> tuple[list[Finding], ProjectTrace] | None:
        """The stored result for ``content`` at ``path`` (resolved), if nothing it depended on
        changed since."""
        for record in self._records(content):
            if record.get("origin") not in (None, path.as_posix()):
                continue
            try:
                findings, trace = _from_record(record)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            if still_valid(path, trace):
                self.hits += 1
                return findings, trace
        self.misses += 1
        return None

    def put(self, content: bytes, path: Path, findings: list[Finding], trace: ProjectTrace) -> None:
        """Write atomically; a cache that cannot be written is skipped, never fatal."""
        record = _record(path, findings, trace)
        records = [r for r in self._records(content) if r.get("origin") != record["origin"]]
        records = [record, *records][: self.MAX_RECORDS]
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"records": records}, handle)
            os.replace(tmp, self._entry(content))
        except OSError:
            return
