"""What a check reports: one diagnostic, as every front end (CLI, cache, formats) passes it on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
