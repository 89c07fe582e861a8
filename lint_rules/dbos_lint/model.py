"""Plain data shared by the checker and its consumers (CLI, cache, mypy plugin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbos_lint.names import matches_name


@dataclass(frozen=True, order=True)
class Finding:
    """One diagnostic. Lines and columns are 1-based, like every linter's output."""

    line: int
    column: int
    code: str
    message: str
    end_line: int = 0
    end_column: int = 0
    workflow: str | None = None
    chain: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "workflow": self.workflow,
            "chain": list(self.chain),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            line=int(data["line"]),
            column=int(data["column"]),
            code=str(data["code"]),
            message=str(data["message"]),
            end_line=int(data["end_line"]),
            end_column=int(data["end_column"]),
            workflow=data["workflow"],
            chain=tuple(data["chain"]),
        )


@dataclass(frozen=True)
class Settings:
    """Project configuration that changes what is flagged (and so is part of the cache key)."""

    extra_forbidden: frozenset[str] = field(default_factory=frozenset)
    extra_allowed: frozenset[str] = field(default_factory=frozenset)

    def is_allowed(self, qualified_name: str) -> bool:
        return matches_name(qualified_name, self.extra_allowed)

    def fingerprint(self) -> str:
        return repr((sorted(self.extra_forbidden), sorted(self.extra_allowed)))
