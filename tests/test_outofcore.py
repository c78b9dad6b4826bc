from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.models import registry as models
from bench.data.features import examples
from bench.models.outofcore import balanced_weights, fit_chunks
from bench.data.schema import load_actors
from bench.data.store import load_records


def test_balanced_weights_are_scikit_learns() -> None:
    from sklearn.utils.class_weight import compute_class_weight

    y = ["a"] * 5 + ["b"] * 2 + ["c"]
    w = balanced_weights(y)
    assert list(w) == ["a", "b", "c"]
    assert list(w.values()) == pytest.approx(list(compute_class_weight("balanced", classes=np.array(["a", "b", "c"]), y=y)))


def test_hashing_sgd_trains_chunk_by_chunk(labels: Path) -> None:
    ex = examples(load_records(labels), "stance", load_actors(labels / "actors.toml"))
    calls, sizes = [], []

    def chunks():
        calls.append(1)
        for start in range(0, len(ex), 40):
            sizes.append(min(40, len(ex) - start))
            yield ex.X.iloc[start:start + 40], ex.y[start:start + 40]

    est = fit_chunks(models.get("hashing-sgd").factory("stance", 0), chunks, epochs=2)
    assert len(calls) == 3 and max(sizes) == 40  # one pass for the labels, then one per epoch; 40 rows at a time
    proba = est.predict_proba(ex.X)
    assert proba.shape == (len(ex), len(set(ex.y))) and np.allclose(proba.sum(axis=1), 1)
    assert (est.predict(ex.X) == np.array(ex.y)).mean() > 0.5  # it learned from the stream
    again = fit_chunks(models.get("hashing-sgd").factory("stance", 0), chunks, epochs=2)
    assert (again.predict_proba(ex.X) == proba).all()  # deterministic
