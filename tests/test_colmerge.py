from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, strategies as st

from bench.models import colmerge, registry as models, search
from bench.data.features import examples
from bench.data.schema import load_actors
from bench.data.splits import select
from bench.data.store import load_records
from bench.models.training import cv


@pytest.fixture()
def stance_train(labels: Path):
    return examples(select(load_records(labels), "document", "train"), "stance", load_actors(labels / "actors.toml"))


def _columns(X: sp.spmatrix) -> list[tuple[float, ...]]:
    return [tuple(col) for col in X.toarray().T]


@st.composite
def matrices(draw: st.DrawFn) -> sp.csr_matrix:
    """Small sparse matrices whose columns are drawn from a few distinct ones, so many repeat."""
    rows = draw(st.integers(1, 6))
    distinct = draw(st.lists(st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, -2.0]), min_size=rows, max_size=rows),
                             min_size=1, max_size=4))
    picks = draw(st.lists(st.integers(0, len(distinct) - 1), min_size=1, max_size=12))
    return sp.csr_matrix(np.array([distinct[i] for i in picks]).T)


@given(matrices())
def test_columns_share_a_group_exactly_when_they_are_equal(X: sp.csr_matrix) -> None:
    cols = _columns(X)
    M = colmerge.merge_matrix(X)
    if M is None:
        assert len(set(cols)) == len(cols)
        return
    group = np.asarray(M.argmax(axis=1)).ravel()
    assert M.shape == (len(cols), len(set(cols)))
    for i in range(len(cols)):
        for j in range(len(cols)):
            assert (group[i] == group[j]) == (cols[i] == cols[j])
    # the merged columns keep every inner product between rows: the Gram matrix a linear model sees
    np.testing.assert_allclose((X @ M @ (X @ M).T).toarray(), (X @ X.T).toarray(), atol=1e-12)


@given(matrices())
def test_a_signature_collision_falls_back_to_comparing_columns(X: sp.csr_matrix) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(colmerge, "_signature", lambda csc: np.zeros((csc.shape[1], 3)))
        M = colmerge.merge_matrix(X)
    cols = _columns(X)
    if M is None:
        assert len(set(cols)) == len(cols)
    else:
        assert M.shape[1] == len(set(cols))
        group = np.asarray(M.argmax(axis=1)).ravel()
        assert all((group[i] == group[j]) == (cols[i] == cols[j]) for i in range(len(cols)) for j in range(len(cols)))


def test_only_l2_penalised_linear_classifiers_are_merged() -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    assert colmerge.applies(LogisticRegression(), [{"C": 0.3}, {"C": 10.0}])
    assert colmerge.applies(CalibratedClassifierCV(LinearSVC()), [{"estimator__C": 1.0}])
    assert not colmerge.applies(LogisticRegression(), [{"C": 1.0}, {"C": np.inf}])  # no penalty: no unique optimum
    assert not colmerge.applies(LogisticRegression(solver="liblinear", l1_ratio=1.0), [{}])  # L1 picks one of equals
    assert not colmerge.applies(LinearSVC(penalty="l1", dual=False), [{}])
    assert not colmerge.applies(SGDClassifier(), [{}])  # stochastic: not the same fit
    assert not colmerge.applies(ComplementNB(), [{"alpha": 1.0}])
    assert not colmerge.applies(LogisticRegression(), [{"no_such_param": 1}])


def test_the_svm_search_scores_exactly_as_grid_search_cv(stance_train) -> None:
    """liblinear's dual solver sees the same row inner products on merged columns: the same scores."""
    from sklearn.model_selection import GridSearchCV

    ex, spec = stance_train, models.get("tfidf-svm")
    gs = GridSearchCV(spec.factory("stance", 0), spec.grid, scoring="f1_macro", cv=cv(0, 3)).fit(ex.X, ex.y, groups=ex.groups)
    search.clear_cache()
    model, params, score = search.grid_search(spec.factory("stance", 0), spec.grid, ex.X, ex.y, ex.groups, cv(0, 3))
    assert search.cache_info()["merged"] == 3
    assert params == gs.best_params_
    assert score == pytest.approx(gs.best_score_, abs=1e-12)
    np.testing.assert_allclose(model.predict_proba(ex.X), gs.best_estimator_.predict_proba(ex.X))
    search.clear_cache()


def test_the_warm_started_merged_lr_search_reaches_grid_search_cvs_optimum(stance_train) -> None:
    """Solved tightly, the logistic regression on merged columns, warm-started along C, gives
    GridSearchCV's fold scores and choice; the refit on all rows is scikit-learn's own."""
    from sklearn.model_selection import GridSearchCV

    ex = stance_train
    est = models.get("tfidf-lr").factory("stance", 0).set_params(clf__tol=1e-10)
    grid = {"clf__C": [10.0, 0.3, 1.0]}  # out of order: the warm path sorts C itself
    gs = GridSearchCV(est, grid, scoring="f1_macro", cv=cv(0, 3)).fit(ex.X, ex.y, groups=ex.groups)
    search.clear_cache()
    assert search._paths(est.steps[1][1], [{"C": c} for c in grid["clf__C"]]) == [[1, 2], [0]]
    model, params, score = search.grid_search(est, grid, ex.X, ex.y, ex.groups, cv(0, 3), n_jobs=1)
    assert params == gs.best_params_
    assert score == pytest.approx(gs.best_score_, abs=1e-9)
    # (one BLAS thread in the search vs several here: the same fit to rounding)
    np.testing.assert_allclose(model.steps[1][1].coef_, gs.best_estimator_.steps[1][1].coef_, rtol=1e-9, atol=1e-12)
    search.clear_cache()


def test_warm_paths_only_for_logistic_regression_over_c() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    lr = LogisticRegression()
    assert search._paths(lr, [{"C": 3.0}, {"C": 1.0}]) == [[1, 0]]
    assert search._paths(lr, [{"C": c} for c in (1, 2, 3, 4)]) == [[0, 1], [2, 3]]
    assert search._paths(lr, [{"C": c} for c in (5, 1, 3)]) == [[1, 2], [0]]
    assert search._paths(lr, [{"C": 1.0, "tol": 1e-3}, {"C": 2.0, "tol": 1e-3}]) is None
    assert search._paths(lr, [{"C": 1.0}]) is None
    assert search._paths(LinearSVC(), [{"C": 1.0}, {"C": 2.0}]) is None


def test_cv_scores_do_not_depend_on_the_number_of_workers(stance_train) -> None:
    ex, spec = stance_train, models.get("tfidf-lr")
    runs = []
    for n_jobs in (1, 2):
        search.clear_cache()
        _, params, score = search.grid_search(spec.factory("stance", 0), spec.grid, ex.X, ex.y, ex.groups, cv(0, 3), n_jobs)
        runs.append((params, score))
    assert runs[0] == runs[1]
    search.clear_cache()
