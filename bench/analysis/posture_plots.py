"""Posture and tension pictures: every estimate drawn with its n and its interval, never a bare mean.

Rendered from the rows of bench/analysis/postures.py (results are data; pictures are views of them).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence


def _plt():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    _plt().close(fig)
    return path


def _grid(rows: Sequence[dict[str, Any]], actors: Sequence[str], periods: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["actor"], r["period"]): r for r in rows if r["actor"] in set(actors) and r["period"] in set(periods)}


def _heat_axes(ax: Any, rows: Sequence[dict[str, Any]], actors: Sequence[str], periods: Sequence[str], fontsize: float) -> Any:
    """Draw one actor x period heatmap of the index; too-few cells hatched and labelled with n."""
    import numpy as np
    from matplotlib.patches import Rectangle

    cells = _grid(rows, actors, periods)
    Z = np.full((len(actors), len(periods)), np.nan)
    for (a, p), r in cells.items():
        if r.get("index") is not None:
            Z[actors.index(a), periods.index(p)] = r["index"]
    im = ax.imshow(np.ma.masked_invalid(Z), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for i, a in enumerate(actors):
        for j, p in enumerate(periods):
            r = cells.get((a, p))
            if r is None:
                continue
            if r.get("index") is None:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.75", linewidth=0))
                ax.text(j, i, f"n={r['n']}\ntoo few", ha="center", va="center", fontsize=fontsize, color="0.35")
            else:
                v = r["index"]
                ax.text(j, i, f"{v:+.2f}\n[{r['ci_low']:+.2f},{r['ci_high']:+.2f}]\nn={r['n']}", ha="center", va="center",
                        fontsize=fontsize, color="white" if abs(v) > 0.6 else "black")
    ax.set_xticks(range(len(periods)), periods, rotation=45 if len(periods) > 12 else 0, fontsize=8)
    ax.set_yticks(range(len(actors)), actors, fontsize=8)
    ax.set_xlim(-0.5, len(periods) - 0.5)
    return im


def heatmap(rows: Sequence[dict[str, Any]], actors: Sequence[str], periods: Sequence[str], path: Path, title: str) -> Path:
    """Actor x period posture index (blue cooperation, red deterrence), with interval and n in each cell."""
    plt = _plt()
    periods = _used(rows, actors, periods)
    fig, ax = plt.subplots(figsize=(max(7.0, 1.25 * len(periods) + 2.5), max(3.5, 0.55 * len(actors) + 1.8)), dpi=110)
    im = _heat_axes(ax, rows, list(actors), periods, 6.0)
    ax.set_title("Posture index = share deterrence-seeking − share pro-cooperation (each cell: index, [95% interval], n;\n"
                 "hatched: too few to estimate; blank: no stance)\n" + title, fontsize=8.5)
    fig.colorbar(im, ax=ax, label="posture index (−1 cooperation … +1 deterrence)", shrink=0.8)
    fig.tight_layout()
    return _save(fig, path)


def _used(rows: Sequence[dict[str, Any]], actors: Sequence[str], periods: Sequence[str]) -> list[str]:
    """The periods in which any of the actors has a stance (a heatmap without empty columns)."""
    have = {r["period"] for r in rows if r["actor"] in set(actors)}
    return [p for p in periods if p in have] or list(periods)


def _series_axes(ax: Any, rows: Sequence[dict[str, Any]], periods: Sequence[str], color: str, few_y: float = -0.92) -> None:
    """Estimate with its interval (band and bar) per period, n above; the line breaks where a period is
    not estimated, and too-few periods are marked by their n at `few_y`."""
    import numpy as np

    x = {p: i for i, p in enumerate(periods)}
    by_period = {r["period"]: r for r in rows if r["period"] in x}
    est = [by_period.get(p) if by_period.get(p) and by_period[p].get("index") is not None else None for p in periods]
    y = np.array([np.nan if r is None else r["index"] for r in est])
    lo = np.array([np.nan if r is None else r["ci_low"] for r in est])
    hi = np.array([np.nan if r is None else r["ci_high"] for r in est])
    xs = np.arange(len(periods), dtype=float)
    ax.fill_between(xs, lo, hi, color=color, alpha=0.18, linewidth=0)
    ax.plot(xs, y, "-", color=color, linewidth=1.4)
    ok = ~np.isnan(y)
    ax.errorbar(xs[ok], y[ok], yerr=[y[ok] - lo[ok], hi[ok] - y[ok]], fmt="o", color=color, markersize=3.5,
                elinewidth=0.9, capsize=2)
    for i, r in enumerate(est):
        if r is not None:
            ax.annotate(f"n={r['n']}", (i, hi[i]), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=6, color="0.3")
    for p, r in by_period.items():
        if r.get("index") is None:
            ax.annotate(f"n={r['n']}\ntoo few", (x[p], few_y), ha="center", va="center", fontsize=5.5, color="0.5")
    ax.set_xlim(-0.6, len(periods) - 0.4)


def _panel_grid(names: Sequence[str], periods: Sequence[str], width: float):  # noqa: ANN202
    """A grid of small panels sharing both axes, one per name (spare panels hidden): (fig, [(name, ax)])."""
    plt = _plt()
    ncol = min(3, max(1, len(names)))
    nrow = max(1, -(-len(names) // ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(width * ncol, 2.9 * nrow), dpi=110, sharex=True, sharey=True, squeeze=False)
    for k in range(len(names), nrow * ncol):
        axes.flat[k].axis("off")
        if k - ncol >= 0:  # the panel above a hidden one is the bottom of its column: give it the period labels
            axes.flat[k - ncol].xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes.flat:
        ax.set_xticks(range(len(periods)), periods, rotation=45 if len(periods) > 6 else 0, fontsize=7)
    return fig, axes, list(zip(names, axes.flat))


def lines(rows: Sequence[dict[str, Any]], periods: Sequence[str], path: Path, title: str) -> Path:
    """One small panel per main actor: index over time with its 95% band and n at each point."""
    names = list(dict.fromkeys(r["actor"] for r in rows))
    periods = list(periods)
    fig, axes, panels = _panel_grid(names, periods, 4.2)
    for name, ax in panels:
        _series_axes(ax, [r for r in rows if r["actor"] == name], periods, "C3")
        ax.axhline(0, color="0.6", linewidth=0.6)
        ax.set_ylim(-1.05, 1.12)
        ax.set_title(name, fontsize=9)
    for ax in axes[:, 0]:
        ax.set_ylabel("posture index", fontsize=8)
    fig.supxlabel("no mark: no stance of the actor in that period", fontsize=7, color="0.4")
    fig.suptitle("Main actors: posture index (+1 deterrence-seeking, −1 pro-cooperation), 95% band\n" + title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def tension(rows: Sequence[dict[str, Any]], periods: Sequence[str], path: Path, title: str) -> Path:
    """Mean tension (low 0, medium 0.5, high 1) per period, one panel per source, with bands and n."""
    sources = list(dict.fromkeys(r["source"] for r in rows))
    periods = [p for p in periods if any(r["period"] == p for r in rows)] or list(periods)
    fig, _, panels = _panel_grid(sources, periods, 4.4)
    for source, ax in panels:
        src = [dict(r, actor=source) for r in rows if r["source"] == source]
        _series_axes(ax, src, periods, "C0" if source != "all sources" else "k", few_y=-0.08)
        ax.set_ylim(-0.16, 1.12)
        ax.set_yticks([0, 0.5, 1], ["low", "medium", "high"], fontsize=7)
        ax.set_title(source, fontsize=9)
    fig.suptitle("Tension over time by source: mean of low=0, medium=0.5, high=1, 95% band\n" + title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def side_by_side(gold: Sequence[dict[str, Any]], pred: Sequence[dict[str, Any]], actors: Sequence[str],
                 periods: Sequence[str], path: Path, title: str) -> Path:
    """Gold and predicted heatmaps on the same scale, so a model's distortion of the picture shows."""
    plt = _plt()
    periods = _used(gold, actors, periods)
    fig, axes = plt.subplots(1, 2, figsize=(max(9.0, 1.9 * len(periods) + 2.5), max(3.5, 0.6 * len(actors) + 1.8)),
                             dpi=110, sharey=True, layout="constrained")
    for ax, rows, name in ((axes[0], gold, "gold labels"), (axes[1], pred, "predicted")):
        im = _heat_axes(ax, rows, list(actors), periods, 6.0)
        ax.set_title(name, fontsize=9)
    fig.colorbar(im, ax=list(axes), label="posture index", shrink=0.8)
    fig.suptitle("Gold vs predicted posture index on the test side\n" + title, fontsize=9)
    return _save(fig, path)
