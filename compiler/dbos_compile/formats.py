"""Output formats for ``check``: flake8-style text, ruff-like JSON and SARIF 2.1.0.

All columns are 1-based, as editors, problem matchers and SARIF expect.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import dbos_lint
from dbos_compile.runner import RunResult
from dbos_lint import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# The rule pages ship in the repository; `dbos-compile explain CODE` prints the same text.
_DOCS = "docs/rules.md"


def format_text(result: RunResult) -> str:
    return "".join(
        f"{f.path}:{d.line}:{d.column}: {d.code} {d.message}\n"
        for f in result.files
        for d in f.findings
    )


def format_json(result: RunResult) -> str:
    items: list[dict[str, Any]] = []
    for file in result.files:
        for d in file.findings:
            rule = RULES[d.code]
            items.append(
                {
                    "code": d.code,
                    "name": rule.name,
                    "message": d.message,
                    "filename": file.path,
                    "location": {"row": d.line, "column": d.column},
                    "end_location": {"row": d.end_line or d.line, "column": d.end_column or 0},
                    "severity": rule.severity,
                    "workflow": d.workflow,
                    "chain": list(d.chain),
                    "docs": f"{_DOCS}#{d.code.lower()}-{rule.name}",
                }
            )
    return json.dumps(items, indent=2) + "\n"


def _fingerprint(path: str, code: str, message: str) -> str:
    # Line numbers are left out on purpose: inserting lines above must not make alerts "new".
    return hashlib.sha256(f"{path}|{code}|{message}".encode()).hexdigest()[:32]


def format_sarif(result: RunResult) -> str:
    codes = list(RULES)
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.why},
            "help": {"text": rule.fix},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["dbos", "determinism"]},
        }
        for rule in RULES.values()
    ]
    results: list[dict[str, Any]] = []
    for file in result.files:
        for d in file.findings:
            region: dict[str, int] = {"startLine": d.line, "startColumn": d.column}
            if d.end_line:
                region |= {"endLine": d.end_line, "endColumn": d.end_column}
            results.append(
                {
                    "ruleId": d.code,
                    "ruleIndex": codes.index(d.code),
                    "level": "error",
                    "message": {"text": d.message},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": file.path},
                                "region": region,
                            }
                        }
                    ],
                    "partialFingerprints": {
                        "primaryLocationLineHash": _fingerprint(file.path, d.code, d.message)
                    },
                }
            )
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dbos-compile",
                        "version": dbos_lint.__version__,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


FORMATTERS: dict[str, Callable[[RunResult], str]] = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
}
