"""A fitted vectorizer's `transform`, faster and with the identical sparse matrix (#10).

scikit-learn's transform counts every n-gram of every document in a Python loop; here each
distinct word's char n-gram columns are looked up once (and remembered), word bigrams are joined
in one comprehension, a batch's column ids are counted in one numpy pass, and the fitted
`TfidfTransformer` does the rest. A batch's distinct
texts are transformed once and their rows gathered, since stance inputs repeat each sentence once
per actor. Anything this module does not reproduce exactly falls back to scikit-learn.
"""
from __future__ import annotations

import re
import weakref
from typing import Any, Sequence

import numpy as np

_WHITE_SPACES = re.compile(r"\s\s+")
_CACHE_MAX = 100_000
"""Words remembered per vectorizer before the cache starts afresh (bounded memory on long inputs:
about 25 MB at most)."""
_caches: "weakref.WeakKeyDictionary[Any, tuple[dict[str, int], dict[str, np.ndarray]]]" = weakref.WeakKeyDictionary()


def _align() -> Any:
    """scikit-learn's conversion to its configured sparse type (1.8+), or None: this module then
    leaves everything to scikit-learn, whose older versions it was not checked against."""
    try:
        from sklearn.utils._sparse import _align_api_if_sparse
    except ImportError:
        return None
    return _align_api_if_sparse


def supported(vec: Any) -> bool:
    """Is `vec` a fitted scikit-learn Count/TfidfVectorizer (not a subclass) whose transform is reproduced here?"""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    return (_align() is not None and type(vec) in (CountVectorizer, TfidfVectorizer) and hasattr(vec, "vocabulary_")
            and (type(vec) is CountVectorizer or hasattr(vec, "_tfidf")))


def _char_wb(vec: Any) -> bool:
    """char_wb n-grams of plain text, which `_word_columns` reproduces."""
    return vec.analyzer == "char_wb" and vec.input == "content"


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
    return np.array([c for c in map(get, grams) if c is not None], dtype=np.int32)


def _char_wb_columns(vec: Any, docs: Sequence[str]) -> tuple[list[np.ndarray], np.ndarray]:
    """Each word's n-gram columns (from the word cache) and the document of each column."""
    vocab, (lo, hi) = vec.vocabulary_, vec.ngram_range
    pre, decode = vec.build_preprocessor(), vec.decode
    held = _caches.get(vec)  # (the vocabulary it was built from, word -> columns): a refit starts afresh
    if held is None or held[0] is not vocab or len(held[1]) > _CACHE_MAX:
        held = _caches[vec] = (vocab, {})
    cache = held[1]
    parts: list[np.ndarray] = []
    n_words = []
    for doc in docs:
        words = _WHITE_SPACES.sub(" ", pre(decode(doc))).split()
        for w in words:
            if w not in cache:
                cache[w] = _word_columns(w, lo, hi, vocab)
        parts += [cache[w] for w in words]
        n_words.append(len(words))
    word_doc = np.repeat(np.arange(len(docs), dtype=np.int64), n_words)
    return parts, np.repeat(word_doc, np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)))


def _word_features(vec: Any) -> Any:
    """For word unigrams (and bigrams) without stop words: a function listing a document's features
    in some order (counting ignores it) with scikit-learn's own tokenizer, else None."""
    if not (vec.analyzer == "word" and vec.input == "content" and vec.ngram_range in ((1, 1), (1, 2))
            and vec.get_stop_words() is None):
        return None
    pre, tokenize, decode, bigrams = vec.build_preprocessor(), vec.build_tokenizer(), vec.decode, vec.ngram_range == (1, 2)

    def features(doc: str) -> list[str]:
        tokens = tokenize(pre(decode(doc)))
        return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])] if bigrams else tokens

    return features


def _analyzer_columns(vec: Any, docs: Sequence[str]) -> tuple[list[np.ndarray], np.ndarray]:
    """Each document's feature columns from the vectorizer's own analyzer (any settings), and the
    document of each column."""
    analyze, get = _word_features(vec) or vec.build_analyzer(), vec.vocabulary_.get
    parts = [np.array([c for c in map(get, analyze(doc)) if c is not None], dtype=np.int64) for doc in docs]
    return parts, np.repeat(np.arange(len(docs), dtype=np.int64), [len(p) for p in parts])


def counts(vec: Any, docs: Sequence[str]) -> Any:
    """The count matrix `CountVectorizer._count_vocab` builds for `docs`: sorted indices, `vec.dtype`."""
    import scipy.sparse as sp

    parts, rows = (_char_wb_columns if _char_wb(vec) else _analyzer_columns)(vec, docs)
    cols = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    # coo -> csc -> csr sorts each row's columns (two counting sorts), then the duplicate (row, column)
    # pairs are summed: the counts (small integers, exact in floats)
    X = sp.coo_array((np.ones(len(cols), dtype=vec.dtype), (rows, cols)), shape=(len(docs), len(vec.vocabulary_))).tocsc().tocsr()
    X.sum_duplicates()
    X.sort_indices()  # a no-op when sorted already
    if X.indices.dtype != np.int32 and X.nnz <= np.iinfo(np.int32).max:  # scikit-learn's index type
        X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    return X


def transform(vec: Any, docs: Sequence[str]) -> Any:
    """`vec.transform(docs)`, through the fast path when `supported(vec)`."""
    if not supported(vec):
        return vec.transform(docs)
    X = counts(vec, docs)
    if vec.binary:
        X.data.fill(1)
    return vec._tfidf.transform(X, copy=False) if hasattr(vec, "_tfidf") else _align()(X)


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
    return _align()(M[inverse]) if _align() is not None else M[inverse]


def label_columns(cols: Any) -> bool:
    """A ColumnTransformer column spec given by DataFrame labels (a name or a list of names): the
    specs this module and `bench.models.foldfeatures` read with `X[cols]`."""
    return isinstance(cols, str) or (isinstance(cols, list) and all(isinstance(c, str) for c in cols))


def columns(ct: Any, X: Any) -> Any:
    """`ct.transform(X)` for a fitted ColumnTransformer with sparse output over a DataFrame: text
    vectorizers through `dedup_transform`, other parts as they are; otherwise `ct.transform(X)`."""
    import scipy.sparse as sp
    from sklearn.utils import check_array

    parts = [(t, c) for _, t, c in ct.transformers_ if not (isinstance(t, str) and t == "drop")]
    if (_align() is None or not hasattr(X, "columns") or not getattr(ct, "sparse_output_", False)
            or ct.transformer_weights is not None or not all(label_columns(c) for _, c in parts)
            or any(isinstance(t, str) for t, _ in parts)):
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
