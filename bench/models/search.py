"""Grouped grid search that builds each fold's features once and shares them between models.

GridSearchCV over `Pipeline([("features", T), ("clf", C)])` refits the feature transformer T for
every grid point of every fold, although T does not depend on the grid. Here T is fitted once per
fold (and once on all training data); the transformed matrices are kept in a cache keyed by T's
definition, the fold's indices and a fingerprint of the data, so models with the same features
(`tfidf-lr` and `tfidf-svm`) and all their grid points reuse them, and only the classifier is
searched. The selection is GridSearchCV's: mean macro-F1 over the folds, the first grid point
(ParameterGrid order) among equals, the winner refitted on all training data. The result is still
one self-contained Pipeline (fitted T, then the refitted C) that predicts from raw DataFrames.

For an L2-penalised linear classifier the cross-validation fits see each fold with its identical
columns merged (`bench.models.colmerge`: the same optimum on fewer columns), and a
LogisticRegression searched over C runs each fold's C values in increasing pairs, the second fit
warm-started from the first (`_paths`, `PATH_TOL`). The final refit is always scikit-learn's own, on
the unmerged matrix, from scratch.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

CACHE_BYTES = 1 << 30
"""Upper bound on the cached matrices (bytes); the least recently used fold is dropped first."""

_cache: "OrderedDict[tuple[str, ...], tuple[Any, Any, int]]" = OrderedDict()


def clear_cache() -> None:
    _cache.clear()


def cache_info() -> dict[str, int]:
    """Cached matrices (`entries`), among them the parts' all-row matrices (`parts`) and the folds with
    identical columns merged (`merged`), and their bytes."""
    return {"entries": len(_cache), "parts": sum(k[0] == "part" for k in _cache),
            "merged": sum(k[0] == "merged" for k in _cache), "bytes": sum(v[2] for v in _cache.values())}


def _nbytes(*mats: Any) -> int:
    total = 0
    for m in mats:
        if hasattr(m, "data") and hasattr(m, "indices"):
            total += m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
        else:
            total += getattr(m, "nbytes", 0)
    return total


def _put(key: tuple[str, ...], a: Any, b: Any) -> None:
    _cache[key] = (a, b, _nbytes(b) if hasattr(a, "transform") else _nbytes(a, b))
    _cache.move_to_end(key)
    while len(_cache) > 1 and sum(v[2] for v in _cache.values()) > CACHE_BYTES:
        _cache.popitem(last=False)


def splittable(est: Any, grid: dict[str, list[Any]]) -> bool:
    """Whether `est` is a (features, classifier) Pipeline whose grid only tunes the classifier."""
    from sklearn.pipeline import Pipeline

    if not isinstance(est, Pipeline) or len(est.steps) != 2 or est.steps[0][1] in (None, "passthrough"):
        return False
    clf_name = est.steps[1][0]
    return all(k.startswith(clf_name + "__") for k in grid)


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def _fold_features(features: Any, X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> tuple[Any, Any]:
    from sklearn.base import clone

    f = clone(features)
    return f.fit_transform(_take(X, train), y[train]), f.transform(_take(X, test))


def _all_features(features: Any, X: Any, y: np.ndarray) -> tuple[Any, Any]:
    from sklearn.base import clone

    f = clone(features)
    return f, f.fit_transform(X, y)


PATH_LENGTH = 2
"""C values per warm-started run: the second starts from the first's solution."""

PATH_TOL = 1e-5
"""The warm-started cross-validation fits solve to this tolerance at least (the estimator's own if
tighter). At newton-cg's default 1e-4 where a fit stops depends on where it starts: warm starts moved
the 12 chosen logistic regressions' CV scores by up to 0.0016 and picked C = 10 over C = 3 (0.0006
apart at the optimum) once. At 1e-5 the 12 chosen CV scores are within 0.0007 of the optimum's
(solved to 1e-8; the cold 1e-4 fits were within 0.0015) and every choice is the optimum's, in about
the time of cold fits at 1e-4 on the merged columns."""


def _fit_scores(clf: Any, path: list[dict[str, Any]], Xtr: Any, ytr: np.ndarray, Xte: Any, yte: np.ndarray,
                warm: bool = False) -> list[float]:
    """The fold's test macro-F1 of `clf` fitted with each candidate of `path`: each from scratch, or
    with `warm` one estimator along a path of increasing C, each fit starting from the last one's
    solution (the same convex optimum in fewer solver steps) at a tolerance of at most `PATH_TOL`."""
    from sklearn.base import clone
    from sklearn.metrics import f1_score

    warmed = clone(clf).set_params(warm_start=True, tol=min(clf.tol, PATH_TOL)) if warm else None
    scores = []
    for params in path:
        c = (warmed if warmed is not None else clone(clf)).set_params(**params).fit(Xtr, ytr)
        scores.append(float(f1_score(yte, c.predict(Xte), average="macro")))
    return scores


def _paths(clf: Any, strip: list[dict[str, Any]]) -> list[list[int]] | None:
    """Candidate indices in runs of `PATH_LENGTH` increasing C values for warm-started fits, or None
    where warm starts do not apply (only a LogisticRegression searched over C alone). The runs do not
    depend on the number of workers, so neither do the CV scores; with five folds and four C values
    they give ten tasks, enough to keep two workers busy to the end."""
    from sklearn.linear_model import LogisticRegression

    if type(clf) is not LogisticRegression or len(strip) < 2 or any(set(p) != {"C"} for p in strip):
        return None
    order = sorted(range(len(strip)), key=lambda i: strip[i]["C"])
    return [order[k:k + PATH_LENGTH] for k in range(0, len(order), PATH_LENGTH)]


def features(transformer: Any, X: Any, y: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]],
             n_jobs: int = 1) -> tuple[list[Any], list[tuple[str, ...]]]:
    """Per-fold (train, test) matrices, then (transformer fitted on all rows, its matrix), and their cache
    keys (the folds' first, the all-row one last), from the cache
    where they were built before. The missing ones are built in parallel (processes: tokenizing holds
    the GIL): a transformer `bench.models.foldfeatures` can derive is fitted once on all rows while its
    parts' all-row matrices are computed (also cached, so models sharing a part share them), and the
    folds are cut from those; any other transformer is fitted on every fold."""
    from joblib import Parallel, delayed, hash as jhash

    from . import foldfeatures

    data = jhash((X, y))
    base = (jhash(transformer), data)
    keys = [base + (jhash((tr, te)),) for tr, te in folds] + [base + ("all",)]
    # Take what the cache holds now, before any `_put` below can evict it (a full cache drops its
    # least recently used entries, which may be the very parts or folds this call reads).
    have = {k: _cache[k][:2] for k in keys if k in _cache}
    missing = [i for i, k in enumerate(keys) if k not in have]
    if missing and foldfeatures.derivable(transformer, X):
        pairs = foldfeatures.parts(transformer)
        pkeys = [("part", jhash(pc), data) for pc in pairs]
        parts_have = {k: _cache[k][0] for k in pkeys if k in _cache}
        todo = [j for j, k in enumerate(pkeys) if k not in parts_have] if missing != [len(folds)] else []
        jobs = ([delayed(_all_features)(transformer, X, y)] if len(folds) in missing else []) + \
            [delayed(foldfeatures.analyse)(*pairs[j], X) for j in todo]
        out = Parallel(n_jobs=n_jobs)(jobs)
        if len(folds) in missing:
            have[keys[-1]] = out.pop(0)
            _put(keys[-1], *have[keys[-1]])
        for j, mat in zip(todo, out):
            parts_have[pkeys[j]] = mat
            _put(pkeys[j], mat, None)
        folds_missing = [i for i in missing if i < len(folds)]
        if folds_missing:
            analysed = [parts_have[k] for k in pkeys]
            for i in folds_missing:
                have[keys[i]] = foldfeatures.fold(transformer, analysed, *folds[i])
                _put(keys[i], *have[keys[i]])
    elif missing:
        jobs = [delayed(_fold_features)(transformer, X, y, *folds[i]) if i < len(folds)
                else delayed(_all_features)(transformer, X, y) for i in missing]
        for i, out in zip(missing, Parallel(n_jobs=n_jobs)(jobs)):
            have[keys[i]] = out
            _put(keys[i], *out)
    for k in keys:
        if k in _cache:
            _cache.move_to_end(k)
    return [have[k] for k in keys], keys


def _merged_folds(keys: Sequence[tuple[str, ...]], fold_mats: Sequence[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Each fold's matrices with the train side's identical columns merged (`bench.models.colmerge`),
    cached beside the fold's own: `tfidf-lr` and `tfidf-svm` share them."""
    from .colmerge import merged

    out = []
    for key, (Xtr, Xte) in zip(keys, fold_mats):
        mkey = ("merged",) + tuple(key)
        if mkey in _cache:
            _cache.move_to_end(mkey)
            out.append(_cache[mkey][:2])
        else:
            pair = merged(Xtr, Xte)
            _put(mkey, *pair)
            out.append(pair)
    return out


def best_index(means: Any) -> int:
    """The grid point with the highest mean CV score, the first of equals, as GridSearchCV's rank_test_score."""
    return int(np.argmax(np.asarray(means, dtype=float)))


def grid_search(est: Any, grid: dict[str, list[Any]], X: Any, y: Sequence[str], groups: Sequence[str], cv: Any,
                n_jobs: int = 1) -> tuple[Any, dict[str, Any], float]:
    """(refitted Pipeline, chosen parameters, mean CV macro-F1) as GridSearchCV(scoring="f1_macro") gives them."""
    from joblib import Parallel, delayed
    from sklearn.base import clone
    from sklearn.model_selection import ParameterGrid
    from sklearn.pipeline import Pipeline

    from threadpoolctl import threadpool_limits

    from . import colmerge

    (fname, transformer), (cname, clf) = est.steps
    y = np.asarray(y)
    folds = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
    # One BLAS thread: the parallelism is over grid points. On 2 cores OpenBLAS's second thread made the
    # small BLAS calls of the solvers (CalibratedClassifierCV's sigmoid fit above all) several times slower.
    with threadpool_limits(1):
        got, keys = features(transformer, X, y, folds, n_jobs)
        fold_mats, (fitted, Xall) = got[:-1], got[-1]
        candidates = list(ParameterGrid(grid)) if grid else [{}]
        strip = [{k[len(cname) + 2:]: v for k, v in c.items()} for c in candidates]
        if colmerge.applies(clf, strip):
            fold_mats = _merged_folds(keys[:-1], fold_mats)
        # Processes: the solvers hold the GIL for much of their time (threads gave no speed-up); joblib
        # memory-maps the matrices for the workers. A dask backend set by the caller still takes over.
        paths = _paths(clf, strip)
        warm = paths is not None
        jobs = [(path, f) for path in (paths or [[i] for i in range(len(strip))]) for f in range(len(folds))]
        out = Parallel(n_jobs=n_jobs)(
            delayed(_fit_scores)(clf, [strip[i] for i in path], fold_mats[f][0], y[folds[f][0]], fold_mats[f][1],
                                 y[folds[f][1]], warm) for path, f in jobs)
        scores = np.empty((len(candidates), len(folds)))
        for (path, f), got_scores in zip(jobs, out):
            scores[path, f] = got_scores
        means = scores.mean(axis=1)
        best = best_index(means)
        final = clone(clf).set_params(**strip[best]).fit(Xall, y)
    model = Pipeline([(fname, fitted), (cname, final)], memory=est.memory, verbose=est.verbose)
    return model, dict(candidates[best]), float(means[best])
