"""``OUT/dbos-manifest.json``: every workflow of the build with the module it is in and its
durable shape (``shape.py``), written as sorted, indented JSON so rebuilds are byte-identical
and a reviewer can read the diff. ``fingerprint`` is what the application version of compiled
code is made of."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

MANIFEST = "dbos-manifest.json"
FORMAT = 1


def build_manifest(shapes: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """``shapes``: module path -> workflow name -> shape."""
    workflows = {
        name: {"module": module, "shape": shape}
        for module, by_name in sorted(shapes.items())
        for name, shape in sorted(by_name.items())
    }
    return {"format": FORMAT, "workflows": dict(sorted(workflows.items()))}


def dumps(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT or not isinstance(data.get("workflows"), dict):
        raise ValueError(f"{path} is not a dbos-compile manifest (format {FORMAT})")
    return data


def fingerprint(name: str, shape: list[dict[str, Any]]) -> str:
    """A workflow's shape as a short hash: equal shapes, equal fingerprints."""
    text = json.dumps([name, shape], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
