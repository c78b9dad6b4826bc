from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from bench.data.features import examples
from bench.data.schema import load_actors
from bench.data.splits import select
from bench.data.store import load_records
from bench.models import foldfeatures, registry as models, search
from bench.models.training import cv


def _dense(m):
    return m.toarray() if hasattr(m, "toarray") else np.asarray(m)


def _same_as_fitted(transformer, X, train: np.ndarray, test: np.ndarray) -> None:
    from sklearn.base import clone

    analysed = [foldfeatures.analyse(p, c, X) for p, c in foldfeatures.parts(transformer)]
    tr, te = foldfeatures.fold(transformer, analysed, train, test)
    f = clone(transformer)
    want_tr, want_te = f.fit_transform(X.iloc[train]), f.transform(X.iloc[test])
    assert hasattr(tr, "toarray") == hasattr(want_tr, "toarray")  # sparse where the fitted one is
    np.testing.assert_allclose(_dense(tr), _dense(want_tr), rtol=0, atol=1e-12)
    np.testing.assert_allclose(_dense(te), _dense(want_te), rtol=0, atol=1e-12)


@pytest.mark.parametrize("task", ["stance", "tension"])
def test_folds_cut_from_one_pass_equal_the_fitted_transformers(labels: Path, task: str) -> None:
    ex = examples(select(load_records(labels), "document", "train"), task, load_actors(labels / "actors.toml"))
    y = np.asarray(ex.y)
    train, test = next(iter(cv(0, 3).split(ex.X, y, ex.groups)))
    for name in ("tfidf-lr", "tfidf-lr-blind", "tfidf-cnb", "hashing-sgd"):
        transformer = models.get(name).factory(task, 0).steps[0][1]
        assert foldfeatures.derivable(transformer, ex.X), name
        _same_as_fitted(transformer, ex.X, np.asarray(train), np.asarray(test))


def test_what_cannot_be_cut_is_fitted_per_fold() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X = pd.DataFrame({"text": ["a b", "b c"], "n": [1.0, 2.0]})
    ok = ColumnTransformer([("w", TfidfVectorizer(), "text")])
    assert foldfeatures.derivable(ok, X)
    assert not foldfeatures.derivable(ok, X.to_numpy())  # columns by name only
    assert not foldfeatures.derivable(TfidfVectorizer(), X)
    assert not foldfeatures.derivable(ColumnTransformer([("w", TfidfVectorizer(max_features=5), "text")]), X)
    assert not foldfeatures.derivable(ColumnTransformer([("w", TfidfVectorizer(vocabulary=["a"]), "text")]), X)
    assert not foldfeatures.derivable(ColumnTransformer([("n", StandardScaler(), ["n"])]), X)
    assert not foldfeatures.derivable(ColumnTransformer([("o", OneHotEncoder(), ["text"])]), X)  # unknowns would raise
    assert not foldfeatures.derivable(ColumnTransformer([("w", TfidfVectorizer(), "text")], remainder="passthrough"), X)


def test_search_with_cut_folds_scores_as_with_fitted_folds(labels: Path) -> None:
    ex = examples(select(load_records(labels), "document", "train"), "stance", load_actors(labels / "actors.toml"))
    spec = models.get("tfidf-cnb")
    search.clear_cache()
    _, params, score = search.grid_search(spec.factory("stance", 0), spec.grid, ex.X, ex.y, ex.groups, cv(0, 3))
    search.clear_cache()
    derivable = foldfeatures.derivable
    try:
        foldfeatures.derivable = lambda *a: False  # the per-fold fits
        _, params_fitted, score_fitted = search.grid_search(spec.factory("stance", 0), spec.grid, ex.X, ex.y, ex.groups, cv(0, 3))
    finally:
        foldfeatures.derivable = derivable
        search.clear_cache()
    assert params == params_fitted and score == pytest.approx(score_fitted, abs=1e-12)


WORDS = st.sampled_from(["la", "guerre", "paix", "Kyiv", "Moscou", "é", "1", "sanctions", "OTAN"])


@settings(max_examples=40)
@given(texts=st.lists(st.lists(WORDS, min_size=0, max_size=6).map(" ".join), min_size=6, max_size=14),
       actors=st.lists(st.sampled_from(["A", "B", "C"]), min_size=14, max_size=14),
       min_df=st.sampled_from([1, 2, 0.2]), max_df=st.sampled_from([1.0, 0.8, 5]), binary=st.booleans(),
       sublinear=st.booleans(), char=st.booleans(), threshold=st.sampled_from([0.0, 0.3, 1.0]), seed=st.integers(0, 99))
def test_any_split_of_any_texts_matches_the_fitted_transformer(texts, actors, min_df, max_df, binary, sublinear, char,
                                                               threshold, seed) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
    from sklearn.preprocessing import OneHotEncoder

    X = pd.DataFrame({"text": texts, "actor": actors[:len(texts)]})
    word = TfidfVectorizer(min_df=min_df, max_df=max_df, binary=binary, sublinear_tf=sublinear, token_pattern=r"\S+")
    if char:
        word = CountVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=min_df, max_df=max_df, binary=binary)
    transformer = ColumnTransformer([("w", word, "text"), ("h", HashingVectorizer(n_features=32), "text"),
                                     ("a", OneHotEncoder(handle_unknown="ignore"), ["actor"])], sparse_threshold=threshold)
    assert foldfeatures.derivable(transformer, X)
    order = np.random.default_rng(seed).permutation(len(texts))
    train, test = np.sort(order[: len(texts) * 2 // 3]), np.sort(order[len(texts) * 2 // 3:])
    from sklearn.base import clone

    try:
        clone(transformer).fit(X.iloc[train])
    except ValueError:  # sklearn refuses (no term left, max_df < min_df): nothing to compare
        return
    _same_as_fitted(transformer, X, train, test)
