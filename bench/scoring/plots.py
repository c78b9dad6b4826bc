"""Pictures of results (matplotlib, Agg: no display needed): confusion matrices and leaderboard forest plots."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence


def confusion_png(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str, path: Path) -> Path:
    """Counts and row-normalised rates in each cell, the settings in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    C = np.asarray(matrix, dtype=float)
    rows = C.sum(axis=1, keepdims=True)
    rates = np.divide(C, rows, out=np.zeros_like(C), where=rows > 0)
    fig, ax = plt.subplots(figsize=(6.4, 5.4), dpi=110)
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            ax.text(j, i, f"{int(C[i, j])}\n{rates[i, j]:.0%}", ha="center", va="center",
                    color="white" if rates[i, j] > 0.6 else "black", fontsize=9)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label="share of gold row")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def forest_png(points: Sequence[tuple[str, dict[str, float], bool]], lines: dict[str, dict[str, float]], metric: str,
               title: str, path: Path) -> Path:
    """A leaderboard as a forest plot: one row per model (best on top) with its interval.

    `points` are (label, {value, ci_low, ci_high}, external) in rank order; `lines` are reference
    scores (the floor and the ceiling) drawn as vertical lines with their interval shaded.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(points)
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.42 * n), dpi=110)
    ys = list(range(n))[::-1]
    for y, (label, m, external) in zip(ys, points):
        colour = "tab:orange" if external else "tab:blue"
        ax.errorbar(m["value"], y, xerr=[[m["value"] - m["ci_low"]], [m["ci_high"] - m["value"]]], fmt="D" if external else "o",
                    color=colour, ecolor=colour, capsize=3, markersize=5)
        ax.text(m["ci_high"] + 0.008, y, f"{m['value']:.3f}", va="center", fontsize=8, color="dimgray")
    styles = {"floor": ("gray", ":"), "ceiling": ("tab:green", "--")}
    for name, m in lines.items():
        colour, dash = next((v for k, v in styles.items() if k in name), ("black", "-."))
        ax.axvline(m["value"], color=colour, linestyle=dash, linewidth=1.2, label=f"{name}: {m['value']:.3f}")
        ax.axvspan(m["ci_low"], m["ci_high"], color=colour, alpha=0.08)
    ax.set_yticks(ys, [p[0] for p in points], fontsize=9)
    for tick, (_, _, external) in zip(ax.get_yticklabels(), points):
        if external:
            tick.set_color("tab:orange")
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(0, 1.05)
    ax.set_xlabel(f"{metric} (95% interval, document bootstrap)" + ("; † external model, scored from a predictions file"
                                                                     if any(p[2] for p in points) else ""), fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    if lines:
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
