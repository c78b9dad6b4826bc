"""Scoring saved models on a split's test side and turning the scores into result records.

A result record holds everything needed to reproduce and compare it: data fingerprint, split rule,
seed, parameters, package versions, git commit, timings, and the per-document confusion counts
from which intervals and paired tests are recomputed without re-running the model.
"""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..models import artifacts
from . import metrics
from ..data.features import Examples, side_examples
from ..data.schema import labels_for
from ..data.tasks import scored_pairs, spec
from ..data.store import ROOT, fingerprint, labels_dir, load_records, models_dir

SCHEMA_VERSION = 1
MIN_ACTOR_RECORDS = 10


def git_commit(root: Path = ROOT) -> str | None:
    """The checkout's commit, with `+dirty` when tracked files have uncommitted changes (None outside git)."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "HEAD"], capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", "bench", "labels"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


@dataclass
class Predictions:
    model: str
    task: str
    split: str
    ex: Examples
    y_pred: list[str]
    proba: Any | None
    manifest: dict[str, Any]
    seconds: float


def test_examples(task: str, split: str, labels: str | Path | None = None) -> Examples:
    lab = labels_dir(labels)
    return side_examples(load_records(lab), split, "test", task, lab)


def predictions_path(model_path: Path) -> Path:
    """Where the test-side predictions of a saved model are kept (beside it), for `compare`."""
    return model_path.with_suffix(".test-predictions.json")


def cached_predictions(path: Path, manifest: dict[str, Any] | None, fp: str, ids: Sequence[str]) -> list[str] | None:
    """The stored predictions if they were made by this very model file on these test records."""
    import json

    cache = predictions_path(path)
    if manifest is None or not cache.exists() or not path.exists():
        return None
    try:
        c = json.loads(cache.read_text())
    except (OSError, ValueError):
        return None
    if (c.get("sha256") != manifest.get("sha256") or c.get("data_fingerprint") != fp or c.get("ids") != list(ids)
            or artifacts.sha256_file(path) != manifest.get("sha256")):
        return None
    return [str(v) for v in c["y_pred"]]


def predict_test(name: str, task: str, split: str = "document", labels: str | Path | None = None,
                 models: str | Path | None = None, ex: Examples | None = None, fp: str | None = None,
                 reuse: bool = False) -> Predictions:
    """Predictions of a saved model on the test side; refuses a model trained on other data.

    `ex` and `fp` (test examples, data fingerprint) may be passed in when scoring several models.
    Predictions are stored beside the model; `reuse` reads them back instead of loading and running
    the model when they come from the same model file and test records (no probabilities then).
    """
    import json

    from ..models.registry import require
    from ..data.store import atomic_write

    require(name, task)
    lab = labels_dir(labels)
    path = artifacts.model_path(models_dir(models), name, task, split)
    fp = fp or fingerprint(lab)
    ex = ex if ex is not None else test_examples(task, split, lab)
    if reuse:
        manifest = artifacts.read_manifest(path)
        cached = cached_predictions(path, manifest, fp, list(ex.X["id"])) if manifest and manifest.get("data_fingerprint") == fp else None
        if cached is not None and manifest is not None:
            return Predictions(name, task, split, ex, cached, None, manifest, 0.0)
    est, manifest = artifacts.load(path)
    if manifest.get("data_fingerprint") != fp:
        raise artifacts.ModelError(f"{path} was trained on data {manifest.get('data_fingerprint')}, the labels are now {fp}",
                                   ["train", "-m", name, "-t", task, "-s", split], "retrain it")
    t0 = time.perf_counter()
    from ..models.predict import Scorer

    y_pred, proba = Scorer(est, task, {}).frame(ex.X)
    seconds = time.perf_counter() - t0
    atomic_write(predictions_path(path), json.dumps({"sha256": manifest.get("sha256"), "data_fingerprint": fp,
                                                     "ids": list(ex.X["id"]), "y_pred": y_pred}) + "\n")
    return Predictions(name, task, split, ex, y_pred, proba, manifest, seconds)


def scored_record(task: str, split: str, model: str, ex: Examples, y_pred: Sequence[str], fp: str,
                  n_bootstrap: int = metrics.N_BOOTSTRAP, extra: str | None = None) -> dict[str, Any]:
    """The part of a result record that depends only on the predictions: metrics with intervals,
    per-document counts, per class, per source and per actor, with the settings that produced them.

    Shared by models evaluated here and predictions scored from outside (`bench.scoring.submission`), so that
    both kinds of row are computed, ranked and compared the same way. `extra`: the optional extra
    the model needs, whose package versions are recorded (`artifacts.versions`).
    """
    labs = labels_for(task)
    y_pred = list(y_pred)
    rep = metrics.report(task, *scored_pairs(task, ex.y, y_pred, ex.groups), n=n_bootstrap)
    rec: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "task": task, "split": split, "model": model, "data_fingerprint": fp,
        "versions": artifacts.versions(extra), "git_commit": git_commit(),
        "evaluated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **rep,
        "per_source": metrics.group_macro_f1(list(ex.X["source"]), ex.y, y_pred, labs) if spec(task).per_source else {},
    }
    rec["n_test"] = len(ex.y)  # examples scored (for actors: sentences, not the pairs of the matrices)
    if task == "stance":
        rec["per_actor"] = metrics.group_macro_f1(list(ex.X["actor"]), ex.y, y_pred, labs, MIN_ACTOR_RECORDS)
    return rec


def result_record(p: Predictions, labels: str | Path | None = None, n_bootstrap: int = metrics.N_BOOTSTRAP,
                  fp: str | None = None) -> dict[str, Any]:
    """A registered model's record: the scores plus what trained it (split rule, seed, parameters, times)."""
    rec = scored_record(p.task, p.split, p.model, p.ex, p.y_pred, fp or fingerprint(labels), n_bootstrap,
                        artifacts.model_extra(p.model))
    rec.update({"split_rule": p.manifest.get("split_rule"), "seed": p.manifest.get("seed"),
                "params": p.manifest.get("params", {}), "cv_macro_f1": p.manifest.get("cv_macro_f1"),
                "train_seconds": p.manifest.get("fit_seconds"), "predict_seconds": round(p.seconds, 4)})
    if p.manifest.get("plugin"):
        rec["plugin"] = p.manifest["plugin"]  # package name and version of a model from another package
    rec["signature"] = signature(rec)
    return rec


def signature(rec: dict[str, Any]) -> str:
    """A sacrebleu-style one-line signature of every setting behind a score."""
    v = rec.get("versions", {})
    return "|".join([f"task:{rec['task']}", f"split:{rec['split']}", f"data:{rec['data_fingerprint']}",
                     f"seed:{rec.get('seed')}", f"boot:{rec['bootstrap']['resamples']}/{rec['bootstrap']['unit']}",
                     f"sklearn:{v.get('scikit-learn')}", f"bench:{v.get('stance-bench')}"])


def evaluate(names: Sequence[str], task: str, split: str = "document", labels: str | Path | None = None,
             models: str | Path | None = None) -> list[dict[str, Any]]:
    """Result records for each named model (all must be trained on the current data).

    The test side is stored too (`comparison.store_side`), so that `compare` reads it back
    instead of rebuilding it from the labels.
    """
    from .comparison import TestSide, store_side

    ex = test_examples(task, split, labels)
    fp = fingerprint(labels)
    records = [result_record(predict_test(n, task, split, labels, models, ex, fp), labels, fp=fp) for n in names]
    store_side(TestSide.of(ex), task, split, fp, models)  # once every model ran: a refused model writes nothing
    return records
