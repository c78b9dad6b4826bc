"""Actors' postures and tension over time, with n and a document-bootstrap interval for every figure.

The event-data lesson: an average hides its volume and its uncertainty. So each (actor, period)
cell carries n, the share of each stance and the posture index (share deterrence-seeking minus share
pro-cooperation, -1..1) with a 95% interval from resampling the cell's documents (vectorised, as in
bench/scoring/metrics.py); cells with fewer than `min_n` stances are reported as too few, not as numbers.
Works on the gold labels or on `stance-bench annotate` output.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..scoring.metrics import ALPHA, N_BOOTSTRAP, SEED, _percentiles, resample_weights
from ..data.schema import STANCES, TENSIONS, year_of
from ..data.store import LabelError, labels_dir, load_records

POSTURE_COLUMNS = ("actor", "period", "n", "pro_cooperation", "cautious", "deterrence_seeking", "index", "ci_low", "ci_high")
TENSION_COLUMNS = ("source", "period", "n", "low", "medium", "high", "index", "ci_low", "ci_high")
TENSION_VALUE = {"low": 0.0, "medium": 0.5, "high": 1.0}
MAIN_ACTORS: dict[str, tuple[str, ...]] = {
    "SUN/RUS": ("SUN", "RUS"), "USA": ("USA",), "NATO": ("NATO",), "UKR": ("UKR",), "GEO": ("GEO",),
    "Baltic states": ("EST", "LVA", "LTU"), "DEU": ("DEU",), "FRA": ("FRA",),
}
"""The line chart's series: the Soviet Union and Russia as one line (SUN before 1992, RUS after,
as the labels have it), and the three Baltic states together."""
MIN_N = 10
ALL_SOURCES = "all sources"


@dataclass
class Sentence:
    """What the posture and tension figures need from one labelled or annotated sentence."""

    id: str
    doc: str
    date: str | None
    source: str
    tension: str | None
    stances: list[tuple[str, str]]


def period_of(date: str | None, by: str = "decade") -> str | None:
    """`1990s` (by decade) or `1994` (by year); None for an undated sentence."""
    y = year_of(date)
    if y is None:
        return None
    if by == "decade":
        return f"{y // 10 * 10}s"
    if by == "year":
        return str(y)
    raise ValueError(f"unknown period {by!r}: choose decade or year")


def gold_sentences(labels: str | Path | None = None, split: str | None = None, side: str = "test") -> list[Sentence]:
    """The gold labels as sentences; with `split`, only that split's `side`."""
    from ..data.stats import source_name

    records = load_records(labels_dir(labels))
    if split:
        from ..data.splits import select

        records = select(records, split, side)
    return [Sentence(r.id, r["doc"], r.get("date"), source_name(r["source"]), r["tension"],
                     [(s["actor"], s["stance"]) for s in r["stances"]]) for r in records]


def predicted_sentences(path: str | Path) -> list[Sentence]:
    """`stance-bench annotate` output as sentences; a bad line is a `FILE:LINE: field: message` error.

    A line without `doc` is its own document (its id, else its line number) for the bootstrap.
    """
    from ..data.rows import iter_jsonl
    from ..data.stats import source_name

    path = Path(path)
    out, problems = [], []
    for n, obj in iter_jsonl(path):
        where = f"{path}:{n}"
        if not isinstance(obj, dict):
            problems.append(f"{where}: record: must be a JSON object")
            continue
        tension = obj.get("tension")
        if tension is not None and tension not in TENSIONS:
            problems.append(f"{where}: tension: {tension!r} is not one of {', '.join(TENSIONS)}")
        stances = []
        actors = obj.get("actors", [])
        if not isinstance(actors, list):
            problems.append(f"{where}: actors: must be a list of objects with actor and stance")
            actors = []
        for k, a in enumerate(actors):
            if not isinstance(a, dict) or not isinstance(a.get("actor"), str) or a.get("stance") not in STANCES:
                problems.append(f"{where}: actors[{k}]: needs an actor and a stance (one of {', '.join(STANCES)})")
                continue
            stances.append((a["actor"], a["stance"]))
        date = obj.get("date") if isinstance(obj.get("date"), str) else None
        ident = str(obj.get("id", f"line-{n}"))
        source = obj.get("source") if isinstance(obj.get("source"), str) and obj["source"].strip() else "unknown source"
        out.append(Sentence(ident, str(obj.get("doc") or obj.get("doc_id") or ident), date, source_name(source), tension, stances))
    if problems:
        raise LabelError(problems)
    return out


def _interval(per_doc_num: Any, per_doc_den: Any, n_boot: int, seed: int) -> tuple[float, float]:
    """Percentile interval of sum(num)/sum(den), resampling documents (rows) with replacement."""
    import numpy as np

    W = resample_weights(per_doc_num.shape[0], n_boot, seed)
    num, den = W @ per_doc_num, W @ per_doc_den
    return _percentiles(np.divide(num, den, out=np.zeros_like(num), where=den > 0), ALPHA)


def posture_table(sentences: Iterable[Sentence], by: str = "decade", min_n: int = MIN_N,
                  groups: dict[str, Sequence[str]] | None = None, n_boot: int = N_BOOTSTRAP,
                  seed: int = SEED) -> list[dict[str, Any]]:
    """One row per (actor, period) with the POSTURE_COLUMNS; shares and index are None below `min_n`.

    `groups` maps a series name to the actor ids it pools (default: every actor on its own).
    """
    import numpy as np

    member = {a: name for name, ids in (groups or {}).items() for a in ids}
    cells: dict[tuple[str, str], dict[str, np.ndarray]] = defaultdict(dict)
    for s in sentences:
        period = period_of(s.date, by)
        if period is None:
            continue
        for actor, stance in s.stances:
            name = member.get(actor) if groups else actor
            if name is None:
                continue
            counts = cells[(name, period)].setdefault(s.doc, np.zeros(3))
            counts[STANCES.index(stance)] += 1
    return _summarise(dict(sorted(cells.items())), "actor", ("pro_cooperation", "cautious", "deterrence_seeking"), np.array([-1.0, 0.0, 1.0]),
                      min_n, n_boot, seed)


def tension_table(sentences: Iterable[Sentence], by: str = "decade", min_n: int = MIN_N, n_boot: int = N_BOOTSTRAP,
                  seed: int = SEED) -> list[dict[str, Any]]:
    """One row per (source, period), and per period over all sources: n, label shares, mean tension (low 0, medium 0.5, high 1)."""
    import numpy as np

    cells: dict[tuple[str, str], dict[str, np.ndarray]] = defaultdict(dict)
    for s in sentences:
        period = period_of(s.date, by)
        if period is None or s.tension is None:
            continue
        for source in (s.source, ALL_SOURCES):
            counts = cells[(source, period)].setdefault(s.doc, np.zeros(3))
            counts[TENSIONS.index(s.tension)] += 1
    ordered = dict(sorted(cells.items(), key=lambda kv: (kv[0][0] == ALL_SOURCES, kv[0])))
    return _summarise(ordered, "source", TENSIONS, np.array([TENSION_VALUE[t] for t in TENSIONS]), min_n, n_boot, seed)


def _summarise(cells: dict[tuple[str, str], dict[str, Any]], key: str, names: Sequence[str], weights: Any, min_n: int,
               n_boot: int, seed: int) -> list[dict[str, Any]]:
    """Rows from per-document label counts: n, shares, index = shares @ weights with its document-bootstrap interval."""
    import numpy as np

    rows = []
    for (group, period), docs in cells.items():
        M = np.array(list(docs.values()))
        total = M.sum(axis=0)
        n = int(total.sum())
        row: dict[str, Any] = {key: group, "period": period, "n": n, "documents": len(docs)}
        if n >= min_n:
            shares = total / n
            lo, hi = _interval(M @ weights, M.sum(axis=1), n_boot, seed)
            row.update({name: float(v) for name, v in zip(names, shares)}, index=float(shares @ weights), ci_low=lo, ci_high=hi)
        else:
            row.update({name: None for name in (*names, "index", "ci_low", "ci_high")})
        rows.append(row)
    return rows


def write_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str], path: Path) -> Path:
    """Exactly `columns`; too-few cells leave the figures empty. Floats rounded to 4 places."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else round(r[c], 4) if isinstance(r[c], float) else r[c] for c in columns])
    return path


def top_actors(rows: Sequence[dict[str, Any]], k: int) -> list[str]:
    """The k actors with the most stances overall (ties by id)."""
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r["actor"]] += r["n"]
    return sorted(totals, key=lambda a: (-totals[a], a))[:k]


@dataclass
class PosturesResult:
    """The tables (rows as dicts), what was written, and what the figures left out."""

    postures: list[dict[str, Any]]
    tension: list[dict[str, Any]]
    actors: list[str]
    periods: list[str]
    files: list[Path] = field(default_factory=list)
    sentences: int = 0
    undated: int = 0
    basis: str = "gold labels"
    comparison: dict[str, list[dict[str, Any]]] | None = None


def postures(predictions: str | Path | None = None, by: str = "decade", actors: Sequence[str] | None = None,
             out: str | Path | None = None, min_n: int = MIN_N, labels: str | Path | None = None,
             models: str | Path | None = None, model: str | None = None, split: str = "document",
             top: int = 15, plots: bool = True, n_boot: int = N_BOOTSTRAP) -> PosturesResult:
    """Posture and tension tables (and, with `out`, CSVs and PNGs) from gold labels or annotate output.

    `actors` restricts the tables to those ids (default: all in the CSV, the `top` most frequent in
    the figures). A comparison of gold and predicted postures on the test side of `split` is drawn
    when `predictions` (annotate output, joined to the gold test sentences by id; skipped when it
    holds none of them) or `model` (a trained stance model, predicting each gold actor's stance) is given.
    """
    from ..data.schema import load_actors

    if by not in ("decade", "year"):
        raise LabelError([f"--by: {by!r} is not decade or year"])
    if actors:
        registry = load_actors(labels_dir(labels) / "actors.toml")
        unknown = [a for a in actors if a not in registry]
        if unknown:
            from ..data.schema import suggest_actors

            raise LabelError([f"--actor: unknown actor {a!r}" + (f" (did you mean {', '.join(suggest_actors(a, registry))}?)"
                                                                  if suggest_actors(a, registry) else "") for a in unknown])
    sents = predicted_sentences(predictions) if predictions else gold_sentences(labels)
    rows = posture_table(sents, by, min_n, n_boot=n_boot)
    if actors:
        rows = [r for r in rows if r["actor"] in set(actors)]
    shown = list(actors) if actors else top_actors(rows, top)
    periods = sorted({r["period"] for r in rows} | {p for s in sents if (p := period_of(s.date, by))})
    res = PosturesResult(rows, tension_table(sents, by, min_n, n_boot=n_boot), shown, periods, sentences=len(sents),
                         undated=sum(1 for s in sents if period_of(s.date, by) is None),
                         basis=f"predictions {Path(predictions).name}" if predictions else "gold labels")
    gold = gold_sentences(labels, split, "test") if predictions or model else []
    pred = _test_predictions(gold, predictions, model, split, labels, models) if gold else []
    if pred:  # annotate output on text outside the benchmark has no test sentences to compare with
        gold = [s for s in gold if s.id in {p.id for p in pred}]
        res.comparison = {"gold": posture_table(gold, by, min_n, n_boot=n_boot), "predicted": posture_table(pred, by, min_n, n_boot=n_boot),
                          "label": f"{'model ' + model if model else Path(predictions).name}, {split} split test side"}
    if out is not None:
        out = Path(out)
        res.files.append(write_csv(rows, POSTURE_COLUMNS, out / "postures.csv"))
        res.files.append(write_csv(res.tension, TENSION_COLUMNS, out / "tension.csv"))
        if res.comparison:
            for key in ("gold", "predicted"):
                res.files.append(write_csv(res.comparison[key], POSTURE_COLUMNS, out / f"postures_test_{key}.csv"))
        if plots:
            from . import posture_plots

            title = f"{res.basis}, by {by}; 95% document-bootstrap intervals; cells with n < {min_n} not estimated"
            res.files.append(posture_plots.heatmap(rows, shown, periods, out / "postures_heatmap.png", title))
            main = posture_table(sents, by, min_n, groups={k: v for k, v in MAIN_ACTORS.items()
                                                          if not actors or set(v) & set(actors)}, n_boot=n_boot)
            res.files.append(posture_plots.lines(main, periods, out / "postures_lines.png", title))
            res.files.append(posture_plots.tension(res.tension, periods, out / "tension.png", title))
            if res.comparison:
                act = list(actors) if actors else top_actors(res.comparison["gold"], min(top, 10))
                res.files.append(posture_plots.side_by_side(res.comparison["gold"], res.comparison["predicted"], act, periods,
                                                            out / "postures_gold_vs_predicted.png",
                                                            f"{res.comparison['label']}; by {by}; n < {min_n} not estimated"))
    return res


def _test_predictions(gold: list[Sentence], predictions: str | Path | None, model: str | None, split: str,
                      labels: str | Path | None, models: str | Path | None) -> list[Sentence]:
    """Predicted sentences for the gold test sentences: annotate output joined by id, or a stance model's output."""
    if model:
        from ..scoring.evaluation import predict_test

        p = predict_test(model, "stance", split, labels, models)
        stance_of = {i: y for i, y in zip(p.ex.X["id"], p.y_pred)}
        return [Sentence(s.id, s.doc, s.date, s.source, None,
                         [(a, stance_of[f"{s.id}::{a}"]) for a, _ in s.stances]) for s in gold]
    by_id = {s.id: s for s in predicted_sentences(predictions)}
    return [Sentence(s.id, s.doc, s.date, s.source, by_id[s.id].tension, by_id[s.id].stances) for s in gold if s.id in by_id]


def to_json(res: PosturesResult) -> str:
    """The tables as JSON (for scripts)."""
    return json.dumps({"basis": res.basis, "postures": res.postures, "tension": res.tension}, ensure_ascii=False)
