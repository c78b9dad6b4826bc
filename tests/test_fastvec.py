"""The fast vectorizer transform gives scikit-learn's matrix exactly, on real rows and arbitrary text."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from bench.models import fastvec

from .conftest import LABELS

TEXTS = [json.loads(line)["text"] for p in sorted(LABELS.glob("*.jsonl")) for line in p.read_text().splitlines()[:120]]
CHAR = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True).fit(TEXTS[::2])
"""As `tfidf-lr` builds it (bench.models.registry), fitted on half the real sentences."""
WORD = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True).fit(TEXTS[::2])
WINDOW = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True).fit(TEXTS[::2])


def same(A, B) -> None:
    assert type(A) is type(B) and A.shape == B.shape and A.dtype == B.dtype
    assert A.indices.dtype == B.indices.dtype and B.has_sorted_indices
    assert (A != B).nnz == 0
    assert np.array_equal(A.indptr, B.indptr) and np.array_equal(A.indices, B.indices) and np.array_equal(A.data, B.data)


def test_char_wb_matrix_is_sklearns_on_real_sentences() -> None:
    assert fastvec.supported(CHAR)
    same(CHAR.transform(TEXTS), fastvec.transform(CHAR, TEXTS))
    same(CHAR.transform(TEXTS), fastvec.transform(CHAR, TEXTS))  # again, from the word cache


@pytest.mark.parametrize("vec", [
    CountVectorizer(analyzer="char_wb", ngram_range=(1, 3)),
    CountVectorizer(analyzer="char_wb", ngram_range=(3, 3), binary=True, lowercase=False),
    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), strip_accents="unicode", norm="l1", dtype=np.float32),
    TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),  # tfidf-lr's word part
    TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True),  # and its window part
    TfidfVectorizer(analyzer="char", ngram_range=(2, 3), max_features=500),
    TfidfVectorizer(stop_words="english", max_df=0.5, norm=None, use_idf=False),
    CountVectorizer(analyzer=str.split, binary=True),
])
def test_other_settings(vec) -> None:
    vec.fit(TEXTS[:200])
    assert fastvec.supported(vec)
    same(vec.transform(TEXTS), fastvec.transform(vec, TEXTS))


@given(st.lists(st.one_of(st.text(max_size=40), st.sampled_from(TEXTS),
                          st.text(alphabet=" \t\n\u00a0\u2003aeéÉüßİ", max_size=30),
                          st.text(alphabet="ab", min_size=30, max_size=80)), min_size=1, max_size=8))
def test_matrix_is_sklearns_on_any_text(docs: list[str]) -> None:
    for vec in (CHAR, WORD, WINDOW):
        same(vec.transform(docs), fastvec.transform(vec, docs))


def test_subclasses_and_hashing_fall_back_to_sklearn() -> None:
    from sklearn.feature_extraction.text import HashingVectorizer

    class Upper(TfidfVectorizer):
        def build_analyzer(self):
            return lambda doc: doc.upper().split()

    sub, hashing = Upper().fit(TEXTS[:50]), HashingVectorizer(n_features=2**10)
    assert not fastvec.supported(sub) and not fastvec.supported(hashing)
    # the subclass's own analyzer (upper-cased words) is used, not a reproduction of the base class's
    assert all(term.isupper() or not term.isalpha() for term in sub.vocabulary_)
    same(sub.transform(TEXTS[:60]), fastvec.transform(sub, TEXTS[:60]))
    assert fastvec.transform(sub, TEXTS[:60]).nnz > 0
    docs = TEXTS[:5] * 2
    same(hashing.transform(docs), fastvec.dedup_transform(hashing, docs))


def test_model_features_are_the_pipelines_with_repeated_texts(trained: tuple[Path, Path]) -> None:
    from bench.data.features import frame
    from bench.data.schema import load_actors
    from bench.models import artifacts

    lab, mod = trained
    est, _ = artifacts.load(artifacts.model_path(mod, "tfidf-lr", "stance", "document"))
    actors = load_actors(lab / "actors.toml")
    recs = [json.loads(line) for p in sorted(lab.glob("*.jsonl")) for line in p.read_text().splitlines()]
    objs = [{"text": r["text"], "actor": st["actor"]} for r in recs for st in r["stances"]][:400]
    assert len({o["text"] for o in objs}) < len(objs)  # sentences repeat, once per actor
    X = frame(objs, "stance", actors)
    same(est[:-1].transform(X), fastvec.features(est[:-1], X))


def test_a_refitted_vectorizer_is_not_served_its_old_columns() -> None:
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).fit(TEXTS[:40])
    same(vec.transform(TEXTS[:20]), fastvec.transform(vec, TEXTS[:20]))  # fills the word cache
    vec.fit(TEXTS[40:80])  # another vocabulary, same object
    same(vec.transform(TEXTS[:20]), fastvec.transform(vec, TEXTS[:20]))


def test_column_transformers_it_does_not_reproduce_go_to_sklearn() -> None:
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    X = pd.DataFrame({"text": TEXTS[:30], "tag": [str(i % 3) for i in range(30)]})
    weighted = ColumnTransformer([("t", TfidfVectorizer(analyzer="char_wb"), "text"),
                                  ("a", OneHotEncoder(handle_unknown="ignore"), ["tag"])],
                                 transformer_weights={"t": 2.0, "a": 0.5}, sparse_threshold=1.0).fit(X)
    same(weighted.transform(X).tocsr(), fastvec.columns(weighted, X).tocsr())
    by_position = ColumnTransformer([("t", TfidfVectorizer(), 0), ("a", OneHotEncoder(handle_unknown="ignore"), [1])], sparse_threshold=1.0).fit(X)
    same(by_position.transform(X).tocsr(), fastvec.columns(by_position, X).tocsr())
