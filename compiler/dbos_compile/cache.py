"""Per-file result cache so an unchanged file is not re-analysed on the next commit.

An entry is keyed by the file's content hash *and* a rule-set key (tool version, a hash of the
checker's own source files, and the settings that change findings). Any change to the file, the
rules or the configuration therefore misses the cache; a hit replays the exact findings stored
(suppressions included, since they live in the content), so the cache cannot hide a finding.
``--select``/``--ignore`` are applied after the cache and are deliberately not part of the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import dbos_lint
from dbos_lint import Finding, Settings

CACHE_DIR_NAME = ".dbos-compile-cache"
_FORMAT = 1


def _package_fingerprint() -> str:
    """Hash of the checker's source: editing a rule during development invalidates the cache."""
    digest = hashlib.sha256()
    package = Path(dbos_lint.__file__).parent
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def ruleset_key(settings: Settings) -> str:
    material = f"{_FORMAT}|{dbos_lint.__version__}|{_package_fingerprint()}|"
    material += settings.fingerprint()
    return hashlib.sha256(material.encode()).hexdigest()[:24]


class ResultCache:
    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = directory / ruleset_key(settings)
        self.hits = 0
        self.misses = 0

    def _entry(self, content: bytes) -> Path:
        return self.directory / f"{hashlib.sha256(content).hexdigest()}.json"

    def get(self, content: bytes) -> list[Finding] | None:
        try:
            data = json.loads(self._entry(content).read_text(encoding="utf-8"))
            findings = [Finding.from_dict(item) for item in data]
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return findings

    def put(self, content: bytes, findings: list[Finding]) -> None:
        """Write atomically; a cache that cannot be written is skipped, never fatal."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump([f.to_dict() for f in findings], handle)
            os.replace(tmp, self._entry(content))
        except OSError:
            return
