"""Every fold's features from one pass over the texts, equal to fitting the transformer on each fold.

Fitting a TF-IDF ColumnTransformer on each of five folds tokenizes every sentence five times (four
times as a training row, once as a test row), and the char n-grams make that the slow part of a
search. A fold's fitted vectorizer is fully determined by the counts of its training rows: its
vocabulary is the terms whose document frequency in those rows passes `min_df`/`max_df`, in sorted
order, and its IDF weights come from the same frequencies. So the rows are counted once over the
vocabulary of all rows (sorted, and a sorted subset keeps its order); each fold keeps the columns its
training rows pass and applies its own TF-IDF weights. HashingVectorizer is stateless (transform
once, take rows); a OneHotEncoder(handle_unknown="ignore") keeps the categories its training rows
have. The matrices hold the same values as the fitted ColumnTransformer's (the order of the entries
within a row may differ, which moves sums by rounding only). Anything else is not `derivable` and
is fitted per fold as before.
"""
from __future__ import annotations

from numbers import Integral
from typing import Any, Sequence

import numpy as np

_TFIDF_ONLY = ("norm", "use_idf", "smooth_idf", "sublinear_tf")


def _kind(part: Any) -> str | None:
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
    from sklearn.preprocessing import OneHotEncoder

    if isinstance(part, (TfidfVectorizer, CountVectorizer)):  # TfidfVectorizer is a CountVectorizer
        ok = part.max_features is None and part.vocabulary is None
        return ("tfidf" if isinstance(part, TfidfVectorizer) else "count") if ok else None
    if isinstance(part, HashingVectorizer):
        return "hashing"
    if isinstance(part, OneHotEncoder):
        p = part.get_params()
        ok = (p["handle_unknown"] == "ignore" and p["drop"] is None and p["categories"] == "auto"
              and p["min_frequency"] is None and p["max_categories"] is None and p["sparse_output"])
        return "onehot" if ok else None
    return None


def derivable(transformer: Any, X: Any) -> bool:
    """Whether `transformer` is a ColumnTransformer over a DataFrame whose parts all have a known
    fold derivation (vectorizers without max_features or a fixed vocabulary, hashing, one-hot)."""
    from sklearn.compose import ColumnTransformer

    from .fastvec import label_columns

    if not isinstance(transformer, ColumnTransformer) or not hasattr(X, "columns"):
        return False
    if transformer.remainder != "drop" or transformer.transformer_weights is not None:
        return False
    for _, part, cols in transformer.transformers:
        if _kind(part) is None or not label_columns(cols):
            return False
    return True


def parts(transformer: Any) -> list[tuple[Any, Any]]:
    """The (part, columns) pairs whose all-row analysis `analyse` computes."""
    return [(part, cols) for _, part, cols in transformer.transformers]


def analyse(part: Any, cols: Any, X: Any) -> Any:
    """One part's matrix over all rows: raw counts on the full vocabulary (vectorizers), the hashed
    features, or the one-hot columns of every category."""
    from sklearn.base import clone
    from sklearn.feature_extraction.text import CountVectorizer

    kind, data = _kind(part), X[cols]
    if kind in ("tfidf", "count"):
        full = clone(part).set_params(min_df=1, max_df=1.0)
        # CountVectorizer's own fit_transform: raw counts (in the part's dtype) with no TF-IDF weighting
        return CountVectorizer.fit_transform(full, data).tocsr()
    if kind == "hashing":
        return clone(part).transform(data).tocsr()
    return clone(part).fit_transform(data).tocsr()


def _fold_part(part: Any, full: Any, train: np.ndarray, test: np.ndarray) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfTransformer

    kind = _kind(part)
    tr, te = full[train], full[test]
    if kind == "hashing":
        return tr, te
    df = np.bincount(tr.indices, minlength=tr.shape[1]) if kind == "onehot" else \
        np.bincount(tr.indices[tr.data != 0], minlength=tr.shape[1])
    mask = df > 0
    if kind in ("tfidf", "count"):
        n = tr.shape[0]
        lo = part.min_df if isinstance(part.min_df, Integral) else part.min_df * n
        hi = part.max_df if isinstance(part.max_df, Integral) else part.max_df * n
        mask &= (df >= lo) & (df <= hi)
    keep = np.flatnonzero(mask)
    tr, te = tr[:, keep], te[:, keep]
    if kind == "tfidf":
        tt = TfidfTransformer(**{k: getattr(part, k) for k in _TFIDF_ONLY}).fit(tr)
        tr, te = tt.transform(tr, copy=False), tt.transform(te, copy=False)
    return tr, te


def fold(transformer: Any, analysed: Sequence[Any], train: np.ndarray, test: np.ndarray) -> tuple[Any, Any]:
    """(train, test) matrices of one fold, as `clone(transformer).fit_transform(X[train])` and
    `.transform(X[test])` give them, from the parts' all-row matrices."""
    import scipy.sparse as sp

    blocks = [_fold_part(part, full, train, test) for (part, _), full in zip(parts(transformer), analysed)]
    tr = sp.hstack([b[0] for b in blocks]).tocsr()
    te = sp.hstack([b[1] for b in blocks]).tocsr()
    # ColumnTransformer's rule: dense output when the fitted side's density reaches sparse_threshold
    if tr.nnz / max(1, tr.shape[0] * tr.shape[1]) >= transformer.sparse_threshold:
        return tr.toarray(), te.toarray()
    return tr, te
