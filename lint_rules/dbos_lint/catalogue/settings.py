"""The project's own additions to the name tables (``extra-forbidden``, ``extra-allowed``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbos_lint.catalogue.names import matches_name


@dataclass(frozen=True)
class Settings:
    """Project configuration that changes what is flagged (and so is part of the cache key)."""

    extra_forbidden: frozenset[str] = field(default_factory=frozenset)
    extra_allowed: frozenset[str] = field(default_factory=frozenset)

    def is_allowed(self, qualified_name: str) -> bool:
        return matches_name(qualified_name, self.extra_allowed)

    def fingerprint(self) -> str:
        return repr((sorted(self.extra_forbidden), sorted(self.extra_allowed)))
