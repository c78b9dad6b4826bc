"""Comparing two models on the same test records: paired bootstrap, per-class F1, where they disagree.

Reading results should cost less than importing scikit-learn, so a comparison is built from stored
files when it can: the split's test side (`models/SPLIT/TASK/test-side.json`: ids, texts, gold
labels and documents, written by `eval` and checked against the data fingerprint) and each model's
stored test predictions (a registered model's beside its file, checked against the file's sha256;
an external row's under `models/external/`). The figures are then numpy only. When a file is
missing or stale, the test side is rebuilt from the labels and the model is run, as before
(scikit-learn and pandas are imported only then), and the files are written for next time.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..data.store import fingerprint, labels_dir, models_dir

TEST_SIDE = "test-side.json"
"""Name of the stored test side in `models/SPLIT/TASK/` (no model file is named `test-side.joblib`)."""
SIDE_FIELDS = ("ids", "text", "gold", "docs")


@dataclass
class TestSide:
    """What a comparison needs of the test records, in the order the models are scored on them."""

    __test__ = False  # not a pytest test class

    ids: list[str]
    text: list[str]
    y: list[str]
    groups: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, ex: Any) -> "TestSide":
        """From `bench.data.features.Examples` (a DataFrame of inputs, gold labels, documents)."""
        return cls([str(v) for v in ex.X["id"]], [str(v) for v in ex.X["text"]], list(ex.y), list(ex.groups))


def side_path(models: str | Path | None, task: str, split: str) -> Path:
    return models_dir(models) / split / task / TEST_SIDE


def store_side(side: TestSide, task: str, split: str, fp: str, models: str | Path | None = None) -> Path:
    """Store the test side of `task` on `split` for the data fingerprint `fp` (what `eval` scored)."""
    from ..data.store import atomic_write

    path = side_path(models, task, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = dict(zip(SIDE_FIELDS, (side.ids, side.text, side.y, side.groups)))  # what `stored_side` reads back
    atomic_write(path, json.dumps({"task": task, "split": split, "data_fingerprint": fp, **cols}, ensure_ascii=False) + "\n")
    return path


def stored_side(task: str, split: str, fp: str, models: str | Path | None = None) -> TestSide | None:
    """The stored test side if it was made on data `fp` for this task and split (None otherwise)."""
    path = side_path(models, task, split)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(d, dict) or (d.get("task"), d.get("split"), d.get("data_fingerprint")) != (task, split, fp):
        return None
    cols = [d.get(k) for k in SIDE_FIELDS]
    if not all(isinstance(c, list) and len(c) == len(cols[0]) and all(isinstance(v, str) for v in c) for c in cols):
        return None
    return TestSide(*cols)


def stored_predictions(name: str, task: str, split: str, ids: Sequence[str], fp: str,
                       models: str | Path | None = None) -> list[str] | None:
    """A registered model's stored test predictions when its model file, the data and the test ids
    still match them (None otherwise: the model must be run)."""
    from ..models import artifacts
    from .evaluation import cached_predictions

    path = artifacts.model_path(models_dir(models), name, task, split)
    try:
        manifest = artifacts.read_manifest(path)
    except artifacts.ModelError:
        return None
    if manifest is None or manifest.get("model") != name or manifest.get("data_fingerprint") != fp:
        return None
    return cached_predictions(path, manifest, fp, ids)


@dataclass
class Comparison:
    """Two models on the same test records; `disagreements` are indices into `side`."""

    a: str
    b: str
    task: str
    split: str
    side: TestSide
    y_a: list[str]
    y_b: list[str]
    primary: str
    score_a: float
    score_b: float
    difference: float
    p_value: float
    labels: list[str]
    f1_a: list[float]
    f1_b: list[float]
    disagreements: list[int]


def compare(a: str, b: str, task: str, split: str = "document", labels: str | Path | None = None,
            models: str | Path | None = None) -> Comparison:
    """Paired bootstrap over documents of the task's primary metric, and per-class F1, of models `a` and `b`."""
    from . import metrics
    from ..data.schema import labels_for
    from ..data.tasks import TASK_SPECS, scored_pairs

    lab = labels_dir(labels)
    fp = fingerprint(lab)
    side = stored_side(task, split, fp, models)
    ex = None
    if side is None:
        from .evaluation import test_examples

        ex = test_examples(task, split, lab)
        side = TestSide.of(ex)
    preds = []
    for name in (a, b):
        y = stored_predictions(name, task, split, side.ids, fp, models)
        if y is None:
            y = _external_or_run(name, task, split, side, ex, lab, models)
        preds.append(y)
    if ex is not None:  # stored once both models answered: a refused name leaves the folder as it was
        try:
            store_side(side, task, split, fp, models)
        except OSError:  # a read-only models folder: compare still works, only slower next time
            pass
    ya, yb = preds
    labs = labels_for(task)
    primary, score = TASK_SPECS[task].primary, TASK_SPECS[task].primary_metric
    ga, pa, da = scored_pairs(task, side.y, ya, side.groups)
    gb, pb, db = scored_pairs(task, side.y, yb, side.groups)
    _, DA = metrics.doc_confusions(da, ga, pa, labs)
    _, DB = metrics.doc_confusions(db, gb, pb, labs)
    diff, p = metrics.paired_bootstrap_pvalue(DA, DB, score)
    return Comparison(a, b, task, split, side, ya, yb, primary, float(score(DA.sum(0))), float(score(DB.sum(0))), diff, p,
                      list(labs), [float(x) for x in metrics.f1_per_class(DA.sum(0))],
                      [float(x) for x in metrics.f1_per_class(DB.sum(0))],
                      [i for i in range(len(side)) if ya[i] != yb[i]])


def _external_or_run(name: str, task: str, split: str, side: TestSide, ex: Any, lab: Path,
                     models: str | Path | None) -> list[str]:
    """An external row's kept predictions, or a registered model run on the test side (the slow path)."""
    from .submission import external_predictions, model_predictions

    y = external_predictions(name, task, split, side.ids, models)
    if y is not None:
        return y
    if ex is None:
        from .evaluation import test_examples

        ex = test_examples(task, split, lab)
    return model_predictions(name, task, split, ex, lab, models)
