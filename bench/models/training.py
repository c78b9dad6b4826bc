"""Fitting registered models: grouped cross-validated search on the training split, then saving.

Hyper-parameters are chosen on the training split only, with folds grouped by document
(StratifiedGroupKFold, fixed seed): the test split is never seen before `eval`.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from . import artifacts
from ..data import splits
from ..data.features import side_examples
from .registry import get, require
from ..data.tasks import cv_scoring, cv_splitter
from ..data.store import fingerprint, labels_dir, load_records, models_dir

SEED = 0
N_FOLDS = 5


@dataclass
class TrainResult:
    model: str
    task: str
    split: str
    cv_macro_f1: float | None
    params: dict[str, Any]
    fit_seconds: float
    path: Path
    skipped: bool = False


CONNECT_TIMEOUT = 10.0


@contextlib.contextmanager
def parallel(backend: str = "loky", scheduler: str | None = None, workers: int | None = None,
             jobs: int = 1, connect_timeout: float = CONNECT_TIMEOUT) -> Iterator[int]:
    """A joblib backend for the searches; yields the n_jobs to use.

    `dask` sends work to an existing cluster (`scheduler="tcp://HOST:PORT"`, reached within
    `connect_timeout` seconds or SchedulerError) or to a local one of `workers` processes on
    loopback. Dask is the optional extra `distributed`.
    """
    if backend != "dask":
        yield jobs
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise RuntimeError("the dask backend needs the extra: pip install 'stance-bench[distributed]'") from exc
    import joblib

    cluster = None
    if scheduler:
        from .cluster import connect

        client = connect(scheduler, connect_timeout)
    else:
        import dask

        # Dask's default MALLOC_TRIM_THRESHOLD_ for workers fixes glibc's mmap threshold at 128 kB, so
        # the solvers' every large temporary array is mapped and zero-filled afresh: fits ran about
        # 1.7x slower in a worker than in a joblib process (#10). A user's own setting still wins.
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, host="127.0.0.1",
                                   dashboard_address=None, processes=True)
        client = Client(cluster)
    try:
        with joblib.parallel_backend("dask"):
            yield -1
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def cv(seed: int = SEED, n_folds: int = N_FOLDS) -> Any:
    from sklearn.model_selection import StratifiedGroupKFold

    return StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)


def search(name: str, task: str, X: Any, y: list[str], groups: list[str], seed: int = SEED,
           n_jobs: int = 1) -> tuple[Any, dict[str, Any], float | None]:
    """(fitted estimator, chosen parameters, cross-validated macro-F1) for one model.

    A (features, classifier) pipeline is searched with each fold's features built once and cached
    (`bench.models.search`), an estimator with a `grid_search` method of its own (`actor-filter`) by
    that; anything else goes through GridSearchCV. All choose the same way.
    """
    from .search import grid_search, splittable

    spec = get(name)
    if spec.prepare is not None:
        spec.prepare(X, task)
    est = spec.factory(task, seed)
    if task != "actors" and splittable(est, spec.grid):
        return grid_search(est, spec.grid, X, y, groups, cv(seed), n_jobs)
    if spec.grid and callable(getattr(est, "grid_search", None)):  # an estimator's own search (actor-filter)
        return est.grid_search(spec.grid, X, y, groups, task_cv(task, seed), n_jobs)
    return plain_search(est, spec.grid, X, y, groups, seed, n_jobs, task)


def task_cv(task: str, seed: int = SEED) -> Any:
    """The task's folds: grouped by document (stratified too, except for the actors task's sets)."""
    return cv_splitter(task, seed, N_FOLDS, lambda: cv(seed))


def plain_search(est: Any, grid: dict[str, list[Any]], X: Any, y: list[str], groups: list[str], seed: int = SEED,
                 n_jobs: int = 1, task: str = "stance") -> tuple[Any, dict[str, Any], float | None]:
    """GridSearchCV over the whole estimator (features refitted for every grid point and fold), or
    plain CV without a grid. The fallback for models `bench.models.search` cannot split, and the reference
    `make perf` times the cached search against."""
    from sklearn.model_selection import GridSearchCV, cross_val_score

    if grid:
        gs = GridSearchCV(est, grid, scoring=cv_scoring(task), cv=task_cv(task, seed), n_jobs=n_jobs, refit=True)
        gs.fit(X, y, groups=groups)
        return gs.best_estimator_, dict(gs.best_params_), float(gs.best_score_)
    scores = cross_val_score(est, X, y, groups=groups, cv=task_cv(task, seed), scoring=cv_scoring(task), n_jobs=n_jobs)
    est.fit(X, y)
    return est, {}, float(scores.mean())


_data: dict[tuple[str, str], Any] = {}


def clear_cache() -> None:
    """Forget the records read by `train` (benchmarks time a cold start with it)."""
    _data.clear()


def _training_data(lab: Path, fp: str, task: str, split: str) -> tuple[list[dict[str, Any]], Any]:
    """(all records, the training examples of `task` on `split`), read once per labels folder and data
    fingerprint: `make train` trains 51 models on the same data, and reading and parsing the
    records took about a second each time."""
    key = (str(lab.resolve()), fp)
    if key not in _data:
        _data.clear()  # only the current data
        _data[key] = {"records": load_records(lab)}
    got = _data[key]
    if (task, split) not in got:
        got[(task, split)] = side_examples(got["records"], split, "train", task, lab)
    return got["records"], got[(task, split)]


def train(name: str, task: str, split: str = "document", seed: int = SEED, labels: str | Path | None = None,
          models: str | Path | None = None, n_jobs: int = 1, force: bool = False) -> TrainResult:
    """Train one model for one task and split and save it with its manifest.

    A model whose manifest already matches the current data, seed and code versions is kept
    unless `force` is set, so `make eval` only trains what is missing or stale.
    """
    spec = require(name, task)
    lab, mod = labels_dir(labels), models_dir(models)
    fp = fingerprint(lab)
    path = artifacts.model_path(mod, name, task, split)
    if not force:
        current = artifacts.current_manifest(path, fp, seed, spec.grid)
        if current is not None:
            return TrainResult(name, task, split, current.get("cv_macro_f1"), current.get("params", {}),
                               current.get("fit_seconds", 0.0), path, skipped=True)
    records, ex = _training_data(lab, fp, task, split)
    t0 = time.perf_counter()
    est, params, score = search(name, task, ex.X, ex.y, ex.groups, seed, n_jobs)
    seconds = time.perf_counter() - t0
    artifacts.save(est, path, {
        "model": name, "task": task, "split": split, "split_rule": splits.describe(records, split),
        "seed": seed, "params": params, "grid": spec.grid, "cv": f"StratifiedGroupKFold({N_FOLDS}, shuffle, seed={seed}) by doc",
        "cv_macro_f1": score, "fit_seconds": round(seconds, 3), "data_fingerprint": fp, "n_train": len(ex),
        "description": spec.description,
    })
    return TrainResult(name, task, split, score, params, seconds, path)
