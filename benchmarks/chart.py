"""The bench's targets as a picture: each ratio against the baseline, its rounds, its bound.

One bar per target, from 1 (as fast as the baseline) to the measured ratio on a log
scale, so 2x better and 2x worse look alike; the target's bound is a black line across
its bar, the rounds' range a whisker; green where the target holds, red where not.
matplotlib's object API with its Agg canvas: no display, no global state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, ScalarFormatter

HOLDS, FAILS = "#2e7d32", "#c62828"


def write_chart(targets: list[dict[str, Any]], title: str, path: Path) -> None:
    """``targets``: bench.evaluate's entries (those with a ``ratio``), drawn to ``path``."""
    drawn = [target for target in targets if "ratio" in target][::-1]  # first on top
    figure = Figure(figsize=(11, 0.6 * len(drawn) + 1.8), layout="constrained")
    axes = figure.add_subplot()
    for row, target in enumerate(drawn):
        ratio, rounds = target["ratio"], target["rounds"]
        axes.barh(
            row,
            ratio - 1,
            left=1,
            height=0.6,
            color=HOLDS if target["holds"] else FAILS,
            xerr=[[ratio - min(rounds)], [max(rounds) - ratio]],
            error_kw={"ecolor": "#555555", "capsize": 3},
        )
        axes.vlines(target["bound"], row - 0.4, row + 0.4, colors="black", linewidths=2)
        sign = ">=" if target["at_least"] else "<="
        verdict = "holds" if target["holds"] else "NOT HELD"
        axes.annotate(
            f"{ratio:.2f}x (target {sign} {target['bound']}x: {verdict})",
            (max(1, ratio, target["bound"], *rounds), row),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    labels = [
        f"{target['name']} ({'higher' if target['at_least'] else 'lower'} is better)"
        for target in drawn
    ]
    axes.set_yticks(range(len(drawn)), labels)
    axes.set_xscale("log")
    axes.xaxis.set_major_locator(FixedLocator([0.1, 0.2, 0.5, 1, 2, 5, 10, 20]))
    axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.xaxis.set_minor_locator(FixedLocator([]))
    axes.axvline(1, color="#888888", linewidth=1)
    low = min(min(target["rounds"]) for target in drawn)
    high = max(max(max(target["rounds"]), target["bound"]) for target in drawn)
    axes.set_xlim(min(low, 1) / 1.5, max(high, 1) * 5)  # room for the labels
    axes.set_xlabel("ours / baseline (log scale; 1 = the baseline, black line = target)")
    axes.set_title(title, fontsize=10)
    figure.savefig(path, dpi=100)
