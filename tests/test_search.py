from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.models import registry as models, search
from bench.data.features import examples
from bench.data.schema import load_actors
from bench.data.splits import select
from bench.data.store import load_records
from bench.models.training import cv


@pytest.fixture()
def stance_train(labels: Path):
    records = load_records(labels)
    return examples(select(records, "document", "train"), "stance", load_actors(labels / "actors.toml"))


@pytest.mark.parametrize("name", ["tfidf-cnb", "hashing-sgd"])
def test_cached_search_chooses_as_grid_search_cv(stance_train, name: str) -> None:
    from sklearn.model_selection import GridSearchCV

    ex, spec = stance_train, models.get(name)
    est = spec.factory("stance", 0)
    assert search.splittable(est, spec.grid)
    gs = GridSearchCV(est, spec.grid, scoring="f1_macro", cv=cv(0, 3)).fit(ex.X, ex.y, groups=ex.groups)
    search.clear_cache()
    model, params, score = search.grid_search(spec.factory("stance", 0), spec.grid, ex.X, ex.y, ex.groups, cv(0, 3))
    assert params == gs.best_params_
    assert score == pytest.approx(gs.best_score_, abs=1e-12)
    # one self-contained pipeline that predicts from raw DataFrames, as the refitted GridSearchCV model
    assert list(model.predict(ex.X)) == list(gs.best_estimator_.predict(ex.X))
    np.testing.assert_allclose(model.predict_proba(ex.X), gs.best_estimator_.predict_proba(ex.X))


def test_models_with_the_same_features_share_them(stance_train) -> None:
    ex = stance_train
    search.clear_cache()
    lr, svm, cnb = models.get("tfidf-lr"), models.get("tfidf-svm"), models.get("tfidf-cnb")
    search.grid_search(lr.factory("stance", 0), {"clf__C": [1.0]}, ex.X, ex.y, ex.groups, cv(0, 3))
    built = search.cache_info()
    # three folds and all rows, built once for every grid point, from the word, char, window and actor
    # parts; and the three folds with their identical columns merged for the L2-penalised classifier
    assert (built["entries"], built["parts"], built["merged"]) == (4 + 4 + 3, 4, 3)
    _, _, score = search.grid_search(svm.factory("stance", 0), {"clf__estimator__C": [0.1, 1.0]}, ex.X, ex.y, ex.groups, cv(0, 3))
    assert search.cache_info() == built and 0 < score <= 1  # the SVM reused the LR's features, merged folds too
    search.grid_search(cnb.factory("stance", 0), {"clf__alpha": [1.0]}, ex.X, ex.y, ex.groups, cv(0, 3))
    assert search.cache_info()["parts"] == 4  # other folds, cut from the LR's word, window and actor parts
    assert search.cache_info()["merged"] == 3  # naive Bayes is not L2-penalised: its folds are not merged
    assert search.cache_info()["entries"] == 11 + 4
    search.grid_search(lr.factory("stance", 0), {"clf__C": [1.0]}, ex.X.iloc[:-5], ex.y[:-5], ex.groups[:-5], cv(0, 3))
    assert search.cache_info()["entries"] == 15 + 11  # other rows: other features
    search.clear_cache()


def test_only_feature_then_classifier_pipelines_are_split() -> None:
    est = models.get("tfidf-lr").factory("tension", 0)
    assert search.splittable(est, {"clf__C": [1.0]})
    assert not search.splittable(est, {"features__word__min_df": [1, 2]})  # the grid changes the features
    assert not search.splittable(models.get("majority").factory("tension", 0), {})


def test_a_full_cache_never_drops_what_the_same_call_reads(stance_train, monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for little more than one model's matrices, a second model that shares parts with the
    first evicts them while it builds its own: the search still gets every matrix it needs."""
    ex = stance_train
    search.clear_cache()
    lr, cnb = models.get("tfidf-lr"), models.get("tfidf-cnb")
    _, _, alone = search.grid_search(cnb.factory("stance", 0), {"clf__alpha": [1.0]}, ex.X, ex.y, ex.groups, cv(0, 3))
    search.clear_cache()
    search.grid_search(lr.factory("stance", 0), {"clf__C": [1.0]}, ex.X, ex.y, ex.groups, cv(0, 3))
    monkeypatch.setattr(search, "CACHE_BYTES", search.cache_info()["bytes"] + 1)
    _, _, shared = search.grid_search(cnb.factory("stance", 0), {"clf__alpha": [1.0]}, ex.X, ex.y, ex.groups, cv(0, 3))
    assert shared == alone
    search.clear_cache()
