"""Draw the benchmark chart from a results JSON written by ``run.py``.

Usage: ``python benchmarks/chart.py RESULTS.json OUT.png`` with an interpreter that has
matplotlib (the runner uses the upstream venv, where it installs matplotlib; matplotlib is not a
dependency of this project).

One panel per backend; one horizontal bar per metric showing how many times better this project
is than upstream (upstream/ours for times, ours/upstream for rates; medians of per-round ratios),
log scale, bars growing from 1x (parity).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def advantage(ours_over_upstream: float | None, higher_is_better: bool) -> float | None:
    """How many times better ours is (>1) or worse (<1)."""
    if ours_over_upstream is None or ours_over_upstream <= 0:
        return None
    return ours_over_upstream if higher_is_better else 1.0 / ours_over_upstream


def ours_over_upstream(data: dict[str, Any], backend: str, key: str) -> float | None:
    """The paired (per-round) ratio when the results have it, else the ratio of medians."""
    paired = data.get("paired_ratios_ours_over_upstream", {}).get(backend, {})
    if key in paired:
        value: float | None = paired[key]
        return value
    entry = data["medians"][backend][key]
    ours, up = entry.get("ours"), entry.get("upstream")
    return None if ours is None or not up else float(ours) / float(up)


def main(argv: list[str]) -> int:
    import matplotlib  # type: ignore[import-not-found, unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

    data: dict[str, Any] = json.loads(Path(argv[1]).read_text())
    metrics = data["metrics"]
    backends = list(data["medians"])
    fig, axes = plt.subplots(
        1, len(backends), figsize=(6.5 * len(backends), 0.42 * len(metrics) + 1.6), squeeze=False
    )
    for ax, backend in zip(axes[0], backends, strict=True):
        med = data["medians"][backend]
        labels: list[str] = []
        values: list[float] = []
        missing: list[int] = []
        for m in metrics:
            if m["key"] not in med:
                continue
            v = advantage(ours_over_upstream(data, backend, m["key"]), m["higher_is_better"])
            labels.append(f"{m['workload']}. {m['label']}")
            if v is None:
                missing.append(len(values))
                values.append(1.0)
            else:
                values.append(v)
        ys = list(range(len(labels)))[::-1]
        colors = [
            "#cccccc" if i in missing else ("#2b8a3e" if v >= 1 else "#c92a2a")
            for i, v in enumerate(values)
        ]
        # Bars grow from 1x (parity): right = ours better, left = ours worse.
        ax.barh(ys, [v - 1.0 for v in values], color=colors, left=1.0)
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels, fontsize=8)
        for y, v, i in zip(ys, values, range(len(values)), strict=True):
            text = "n/a" if i in missing else f"{v:.2f}x"
            ax.text(max(v, 1.0) * 1.05, y, text, va="center", fontsize=7, color="#333333")
        ax.set_title(f"{backend}: times better than upstream DBOS 2.31.1", fontsize=10)
        ax.set_xlabel("ours advantage (log scale; >1 = ours better)")
        lo = min([*values, 0.5])
        hi = max([*values, 2.0])
        ax.set_xlim(lo / 2, hi * 3)
    meta = data["meta"]
    fig.suptitle(
        f"dbos-durable vs {meta['upstream']} ({meta['mode']} run, {meta['rounds']} rounds, "
        f"{meta['cpus']} CPUs, {meta['started']})",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
