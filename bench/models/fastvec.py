"""A fitted vectorizer's `transform`, faster and with the identical sparse matrix (#10).

scikit-learn's char n-gram transform counts every n-gram of every document in a Python loop; here
each distinct word's n-gram columns are looked up once (and remembered), a batch's column ids are
counted in one numpy pass, and the fitted `TfidfTransformer` does the rest. A batch's distinct
texts are transformed once and their rows gathered, since stance inputs repeat each sentence once
per actor. Anything this module does not reproduce exactly falls back to scikit-learn.
"""
from __future__ import annotations

import re
import weakref
from typing import Any, Sequence

import numpy as np

_WHITE_SPACES = re.compile(r"\s\s+")
_CACHE_MAX = 500_000
"""Words remembered per vectorizer before the cache starts afresh (bounded memory on long inputs)."""
_caches: "weakref.WeakKeyDictionary[Any, dict[str, np.ndarray]]" = weakref.WeakKeyDictionary()


def supported(vec: Any) -> bool:
    """Is `vec` a fitted scikit-learn Count/TfidfVectorizer whose char_wb transform is reproduced here?"""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    return (type(vec) in (CountVectorizer, TfidfVectorizer) and vec.analyzer == "char_wb"
            and hasattr(vec, "vocabulary_") and vec.input == "content"
            and (type(vec) is CountVectorizer or hasattr(vec, "_tfidf")))


def _word_columns(word: str, lo: int, hi: int, vocab: dict[str, int]) -> np.ndarray:
    """Columns of one padded word's n-grams, as scikit-learn's `_char_wb_ngrams` lists them."""
    w = f" {word} "
    size, grams = len(w), []
    for n in range(lo, hi + 1):
        if size <= n:  # a short word counts once, as itself
            grams.append(w)
            break
        grams.extend([w[i:i + n] for i in range(size - n + 1)])
    get = vocab.get
    return np.array([c for c in map(get, grams) if c is not None], dtype=np.int64)


def char_wb_counts(vec: Any, docs: Sequence[str]) -> Any:
    """The count matrix `CountVectorizer._count_vocab` builds for `docs`, sorted indices, `vec.dtype`."""
    import scipy.sparse as sp

    vocab, (lo, hi) = vec.vocabulary_, vec.ngram_range
    pre, decode = vec.build_preprocessor(), vec.decode
    cache = _caches.get(vec)
    if cache is None or len(cache) > _CACHE_MAX:
        cache = _caches[vec] = {}
    parts: list[np.ndarray] = []
    lengths = np.zeros(len(docs), dtype=np.int64)
    for d, doc in enumerate(docs):
        for word in _WHITE_SPACES.sub(" ", pre(decode(doc))).split():
            cols = cache.get(word)
            if cols is None:
                cols = cache[word] = _word_columns(word, lo, hi, vocab)
            parts.append(cols)
            lengths[d] += len(cols)
    n_cols = len(vocab)
    cols = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    keys, counts = np.unique(rows * n_cols + cols, return_counts=True)  # sorted: row-major, columns ascending
    index = np.int64 if len(keys) > np.iinfo(np.int32).max else np.int32
    indptr = np.zeros(len(docs) + 1, dtype=index)
    np.cumsum(np.bincount(keys // n_cols, minlength=len(docs)), out=indptr[1:])
    X = sp.csr_array((counts.astype(np.intc), (keys % n_cols).astype(index), indptr),
                     shape=(len(docs), n_cols), dtype=vec.dtype)
    X.sort_indices()
    return X


def transform(vec: Any, docs: Sequence[str]) -> Any:
    """`vec.transform(docs)`, through the fast path when `supported(vec)`."""
    if not supported(vec):
        return vec.transform(docs)
    from sklearn.utils._sparse import _align_api_if_sparse

    X = char_wb_counts(vec, docs)
    if vec.binary:
        X.data.fill(1)
    return vec._tfidf.transform(X, copy=False) if hasattr(vec, "_tfidf") else _align_api_if_sparse(X)


def _text_transformer(trans: Any) -> bool:
    """A scikit-learn text vectorizer: it maps each document to its row alone, so rows can be deduplicated."""
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer

    return isinstance(trans, (CountVectorizer, HashingVectorizer))


def dedup_transform(trans: Any, docs: Sequence[str]) -> Any:
    """A text vectorizer's matrix for `docs`, each distinct document transformed once."""
    uniq: dict[str, int] = {}
    inverse = np.fromiter((uniq.setdefault(d, len(uniq)) for d in docs), dtype=np.int64, count=len(docs))
    M = transform(trans, list(uniq))
    if len(uniq) == len(docs):
        return M
    from sklearn.utils._sparse import _align_api_if_sparse

    return _align_api_if_sparse(M[inverse])


def columns(ct: Any, X: Any) -> Any:
    """`ct.transform(X)` for a fitted ColumnTransformer with sparse output over a DataFrame: text
    vectorizers through `dedup_transform`, other parts as they are; otherwise `ct.transform(X)`."""
    import scipy.sparse as sp
    from sklearn.utils import check_array

    parts = [(t, c) for _, t, c in ct.transformers_ if not (isinstance(t, str) and t == "drop")]
    if not getattr(ct, "sparse_output_", False) or any(isinstance(t, str) for t, _ in parts):
        return ct.transform(X)
    Xs = []
    for trans, cols in parts:
        if isinstance(cols, str) and _text_transformer(trans):
            Xs.append(dedup_transform(trans, X[cols].tolist()))
        else:
            Xs.append(trans.transform(X[cols]))
    return sp.hstack([check_array(x, accept_sparse=True, ensure_all_finite=False) for x in Xs]).tocsr()


def features(head: Any, X: Any) -> Any:
    """`head.transform(X)` for the transformer steps of a Pipeline (`est[:-1]`), each
    ColumnTransformer through `columns`."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if not isinstance(head, Pipeline):
        return columns(head, X) if isinstance(head, ColumnTransformer) else head.transform(X)
    for _, step in head.steps:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        X = columns(step, X) if isinstance(step, ColumnTransformer) else step.transform(X)
    return X
