"""Recording result records: the one path by which `eval`, `score`, `agreement` and Python users
update the leaderboard (upsert, rerank, Markdown) and its pictures (confusion matrices, forest plots).

Nothing here prints: the terminal layout is `bench.report`'s job.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from . import leaderboard as lb
from ..data.tasks import TASK_SPECS
from ..data.store import fingerprint, labels_dir, models_dir


def confusion_path(models: str | Path | None, rec: dict[str, Any]) -> Path:
    return models_dir(models) / "plots" / f"confusion-{rec['task']}-{rec['split']}-{rec['model']}.png"


def record_results(records: Sequence[dict[str, Any]], labels: str | Path | None = None,
                   models: str | Path | None = None, plots: bool = True) -> list[Path]:
    """Put `records` on the leaderboard and return the files written.

    Each record replaces the earlier one of its task, split and model; the human-ceiling rows are
    refreshed from `labels/agreement/` when it exists; all current rows are re-ranked with the paired
    tests and `LEADERBOARD.md` is rendered. With `plots`, a confusion-matrix PNG per new record and a
    forest plot per task and split are written under `models/plots/` (and linked from the Markdown).
    """
    from .plots import confusion_png

    mod, lab = models_dir(models), labels_dir(labels)
    fp = fingerprint(lab)
    lb.load(lb.path_jsonl(mod))  # an unreadable leaderboard stops here, before any picture is drawn
    humans: list[dict[str, Any]] = []
    if (lab / "agreement" / "second.jsonl").exists():
        from ..annotation.agreement import human_records

        humans = human_records(lab)
    written: list[Path] = []
    if plots:
        for rec in records:
            if rec["model"] == lb.HUMAN or not TASK_SPECS[rec["task"]].confusion_plot:
                continue
            title = f"{rec['model']} · {rec['task']} · {rec['split']} split · data {rec['data_fingerprint']}"
            written.append(confusion_png(rec["confusion"]["matrix"], rec["confusion"]["labels"], title,
                                         confusion_path(mod, rec)))
    ranked = lb.update(mod, [*records, *humans], fp, plots)
    if plots:
        written += forest_plots(ranked, mod, fp)
    return [lb.path_jsonl(mod), lb.path_md(mod), *written]


def forest_plots(records: Sequence[dict[str, Any]], models: str | Path | None, fp: str) -> list[Path]:
    """One forest plot per task and split of the ranked, current records (the leaderboard as a picture)."""
    from .plots import forest_png

    mod = models_dir(models)
    out = []
    for task, split in sorted({(r["task"], r["split"]) for r in records if not r.get("stale")}):
        rows = [r for r in records if (r["task"], r["split"]) == (task, split) and not r.get("stale")]
        primary = lb.COLUMNS[task][0]
        ranked = sorted((r for r in rows if r["model"] != lb.HUMAN),
                        key=lambda r: (r.get("rank", 99), -r["metrics"][primary]["value"], r["model"]))
        if not ranked:
            continue
        points = [(f"{r.get('rank', '?')}. {r['model']}" + (" †" if r.get("external") else ""),
                   r["metrics"][primary], bool(r.get("external"))) for r in ranked]
        lines = {f"{lb.FLOOR} (floor)": r["metrics"][primary] for r in rows if r["model"] == lb.FLOOR}
        # the human row is scored on the agreement sample, whatever the split: the same ceiling for every split
        lines.update({f"{lb.HUMAN} (ceiling, agreement sample)": r["metrics"][primary] for r in records
                      if r["model"] == lb.HUMAN and r["task"] == task and not r.get("stale")})
        n = ranked[0]["n_test"]
        title = f"{task} · {split} split · {primary} with 95% document-bootstrap intervals · n={n} · data {fp}"
        out.append(forest_png(points, lines, primary, title, lb.picture_path(mod, task, split)))
    return out


def evaluate_and_record(names: Sequence[str], tasks: Sequence[str] = ("stance", "tension", "actors"),
                        splits: Sequence[str] = ("document",), labels: str | Path | None = None,
                        models: str | Path | None = None, plots: bool = True,
                        on_record: Callable[[dict[str, Any]], None] | None = None) -> tuple[list[dict[str, Any]], list[Path]]:
    """Evaluate trained models on every task and split they do and record them: (records, files written).

    `on_record` is called with each record as soon as it is computed (the CLI prints it).
    """
    from ..models import registry
    from .evaluation import evaluate

    lb.load(lb.path_jsonl(models_dir(models)))  # an unreadable leaderboard stops the run before any work
    new: list[dict[str, Any]] = []
    for split in splits:
        for task in tasks:
            todo = [n for n in names if task in registry.get(n).tasks]
            for rec in evaluate(todo, task, split, labels, models):
                if on_record is not None:
                    on_record(rec)
                new.append(rec)
    return new, record_results(new, labels, models, plots)
