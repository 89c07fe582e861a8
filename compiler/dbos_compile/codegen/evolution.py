"""Can in-flight runs of the old build be recovered by the new one? Compares two manifests
workflow by workflow.

Recovery replays a workflow from the top and matches each durable call, by its number, with
what the old run recorded. So:

* same shape: compatible (only code between checkpoints changed);
* the old shape is a prefix of the new one: compatible with a note (calls appended after the
  last old one: an old run finishes its recorded calls, then makes the new ones);
* anything else: breaking. The first differing call is named with its step number: a call
  inserted, removed, renamed or reordered (or a branch or loop whose inside changed), as is a
  workflow that no longer exists (its old runs have nothing to run).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

Node = dict[str, Any]
COMPATIBLE, NOTE, BREAKING = "compatible", "compatible with a note", "breaking"


@dataclass(frozen=True)
class Verdict:
    workflow: str
    kind: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.workflow}: {self.kind}" + (f": {self.detail}" if self.detail else "")


def label(node: Node) -> str:
    """How a report names a node: ``step `price```, ``sleep``, ``loop``."""
    op = node["op"]
    return f"{op} `{node['name']}`" if "name" in node else op


def _labels(nodes: list[Node]) -> str:
    return ", ".join(label(n) for n in nodes)


def _first_difference(old: list[Node], new: list[Node]) -> int:
    for index, (a, b) in enumerate(zip(old, new, strict=False)):
        if a != b:
            return index
    return min(len(old), len(new))


def _nested(a: Node, b: Node) -> str | None:
    """What changed inside a loop or branch present in both, if that is where it is."""
    if a["op"] == b["op"] == "loop":
        return f"inside the loop, {_inner(a['body'], b['body'])}"
    if a["op"] == b["op"] == "branch" and len(a["paths"]) == len(b["paths"]):
        for number, (was, now) in enumerate(zip(a["paths"], b["paths"], strict=True), 1):
            if was != now:
                return f"inside branch path {number}, {_inner(was, now)}"
    return None


def _breaking(old: list[Node], new: list[Node]) -> str:
    i = _first_difference(old, new)
    step = i + 1
    if len(new) > len(old) and new[:i] + new[i + 1 :] == old:
        return f"step {step}: {label(new[i])} inserted before {label(old[i])}"
    if len(old) > len(new) and old[:i] + old[i + 1 :] == new:
        return f"step {step}: {label(old[i])} removed"
    if i < len(old) and i < len(new):
        a, b = old[i], new[i]
        nested = _nested(a, b)
        if nested is not None:
            return f"step {step}: {nested}"
        if len(old) == len(new) and old[i + 1 :] == new[i + 1 :]:
            if a["op"] == b["op"] and "name" in a and "name" in b:
                return f"step {step}: {label(a)} renamed to `{b['name']}`"
            return f"step {step}: {label(a)} replaced by {label(b)}"
    if Counter(map(label, old[i:])) == Counter(map(label, new[i:])):
        return f"step {step}: reordered: was {_labels(old[i:])}; now {_labels(new[i:])}"
    old_at = label(old[i]) if i < len(old) else "the end"
    new_at = label(new[i]) if i < len(new) else "the end"
    return f"step {step}: recorded {old_at}, now {new_at}"


def _inner(old: list[Node], new: list[Node]) -> str:
    """A difference inside a loop or branch; appending there is breaking too (the calls after
    it, or the next iteration's, would land on the wrong numbers)."""
    if new[: len(old)] == old:
        return f"after call {len(old)}, added {_labels(new[len(old) :])}"
    return _breaking(old, new).replace("step ", "call ", 1)


def judge(name: str, old: list[Node], new: list[Node]) -> Verdict:
    if old == new:
        return Verdict(name, COMPATIBLE)
    if new[: len(old)] == old:
        added = new[len(old) :]
        return Verdict(name, NOTE, f"after step {len(old)}, appended {_labels(added)}")
    return Verdict(name, BREAKING, _breaking(old, new))


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Verdict]:
    """Verdicts for every workflow of either manifest, sorted by name."""
    before, after = old["workflows"], new["workflows"]
    verdicts = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            verdicts.append(Verdict(name, BREAKING, "removed: its in-flight runs cannot recover"))
        elif name not in before:
            verdicts.append(Verdict(name, COMPATIBLE, "new workflow"))
        else:
            verdicts.append(judge(name, before[name]["shape"], after[name]["shape"]))
    return verdicts


def report(verdicts: list[Verdict]) -> str:
    return "".join(f"{v.line()}\n" for v in verdicts)


def any_breaking(verdicts: list[Verdict]) -> bool:
    return any(v.kind == BREAKING for v in verdicts)
