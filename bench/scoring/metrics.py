"""Metrics as functions of confusion matrices, so bootstrap resamples are one matrix product.

Every headline metric of both tasks is a function of the confusion matrix C (rows = gold, columns =
predicted, in the task's fixed label order). The functions accept a stack of matrices (..., K, K)
and return one value per matrix: scoring 1,000 bootstrap resamples is then a single call.
Macro-F1 averages over the classes present in the gold or the predictions, as scikit-learn does.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..data.schema import STANCES, labels_for

N_BOOTSTRAP = 1000
SEED = 0
ALPHA = 0.05


def confusion(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    idx = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(cm, ([idx[t] for t in y_true], [idx[p] for p in y_pred]), 1)
    return cm


def _parts(C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    C = np.asarray(C, dtype=float)
    diag = np.diagonal(C, axis1=-2, axis2=-1)
    return C, diag, C.sum(axis=-1), C.sum(axis=-2)


def f1_per_class(C: np.ndarray) -> np.ndarray:
    _, diag, rows, cols = _parts(C)
    denom = rows + cols
    return np.divide(2 * diag, denom, out=np.zeros_like(diag), where=denom > 0)


def precision_per_class(C: np.ndarray) -> np.ndarray:
    _, diag, _, cols = _parts(C)
    return np.divide(diag, cols, out=np.zeros_like(diag), where=cols > 0)


def recall_per_class(C: np.ndarray) -> np.ndarray:
    _, diag, rows, _ = _parts(C)
    return np.divide(diag, rows, out=np.zeros_like(diag), where=rows > 0)


def macro_f1_score(C: np.ndarray) -> np.ndarray:
    _, _, rows, cols = _parts(C)
    present = (rows + cols) > 0
    n = present.sum(axis=-1)
    return np.divide((f1_per_class(C) * present).sum(axis=-1), n, out=np.zeros(n.shape), where=n > 0)


def accuracy_score(C: np.ndarray) -> np.ndarray:
    C, diag, _, _ = _parts(C)
    total = C.sum(axis=(-2, -1))
    return np.divide(diag.sum(axis=-1), total, out=np.zeros(total.shape), where=total > 0)


def f_pol_score(C: np.ndarray) -> np.ndarray:
    """Mean F1 of the two polar stances (pro-cooperation, deterrence-seeking), as SemEval-2016 task 6."""
    f1 = f1_per_class(C)
    return (f1[..., STANCES.index("pro-cooperation")] + f1[..., STANCES.index("deterrence-seeking")]) / 2


def severe_error_rate(C: np.ndarray) -> np.ndarray:
    """Share of records where pro-cooperation and deterrence-seeking are swapped (lower is better)."""
    C = np.asarray(C, dtype=float)
    a, b = STANCES.index("pro-cooperation"), STANCES.index("deterrence-seeking")
    total = C.sum(axis=(-2, -1))
    return np.divide(C[..., a, b] + C[..., b, a], total, out=np.zeros(total.shape), where=total > 0)


def _distance(k: int, power: int) -> np.ndarray:
    i = np.arange(k)
    return np.abs(i[:, None] - i[None, :]).astype(float) ** power


def mean_absolute_error(C: np.ndarray) -> np.ndarray:
    """Mean distance on the ordinal scale low < medium < high (lower is better)."""
    C = np.asarray(C, dtype=float)
    total = C.sum(axis=(-2, -1))
    err = (C * _distance(C.shape[-1], 1)).sum(axis=(-2, -1))
    return np.divide(err, total, out=np.zeros(total.shape), where=total > 0)


def quadratic_kappa_score(C: np.ndarray) -> np.ndarray:
    """Quadratic weighted kappa (Cohen), equal to sklearn's cohen_kappa_score(weights='quadratic')."""
    C, _, rows, cols = _parts(C)
    total = C.sum(axis=(-2, -1))
    W = _distance(C.shape[-1], 2)
    expected = rows[..., :, None] * cols[..., None, :] / np.where(total > 0, total, 1)[..., None, None]
    num = (W * C).sum(axis=(-2, -1))
    den = (W * expected).sum(axis=(-2, -1))
    return np.where(den > 0, 1 - np.divide(num, den, out=np.zeros(den.shape), where=den > 0), 0.0)


def set_precision_score(C: np.ndarray) -> np.ndarray:
    """Actor-set precision, micro over sentences: tp / (tp + fp) from C = [[tp, fn], [fp, *]]."""
    return precision_per_class(C)[..., 0]


def set_recall_score(C: np.ndarray) -> np.ndarray:
    """Actor-set recall, micro over sentences: tp / (tp + fn)."""
    return recall_per_class(C)[..., 0]


def set_f1_score(C: np.ndarray) -> np.ndarray:
    """Actor-set F1, micro over sentences: 2 tp / (2 tp + fp + fn)."""
    return f1_per_class(C)[..., 0]


Metric = Callable[[np.ndarray], np.ndarray]
HEADLINE: dict[str, dict[str, Metric]] = {
    "actors": {"f1": set_f1_score, "precision": set_precision_score, "recall": set_recall_score},
    "stance": {"macro_f1": macro_f1_score, "accuracy": accuracy_score, "f_pol": f_pol_score,
               "severe_error_rate": severe_error_rate},
    "tension": {"macro_f1": macro_f1_score, "accuracy": accuracy_score, "mae": mean_absolute_error,
                "qwk": quadratic_kappa_score},
}
PRIMARY = "macro_f1"
PRIMARY_OF: dict[str, str] = {"stance": PRIMARY, "tension": PRIMARY, "actors": "f1"}
"""Each task's ranking metric (a key of HEADLINE[task])."""


def primary(task: str) -> tuple[str, Metric]:
    """(name, function) of the metric a task's models are ranked by."""
    name = PRIMARY_OF.get(task, PRIMARY)
    return name, HEADLINE[task][name]
LOWER_IS_BETTER = {"severe_error_rate", "mae"}


def doc_confusions(docs: Sequence[str], y_true: Sequence[str], y_pred: Sequence[str],
                   labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """One confusion matrix per document (sorted ids): the unit the bootstrap resamples."""
    order = sorted(set(docs))
    pos = {d: i for i, d in enumerate(order)}
    idx = {lab: i for i, lab in enumerate(labels)}
    k = len(labels)
    flat = [pos[d] * k * k + idx[t] * k + idx[p] for d, t, p in zip(docs, y_true, y_pred)]
    D = np.bincount(np.asarray(flat, dtype=np.int64), minlength=len(order) * k * k).reshape(len(order), k, k)
    return order, D.astype(np.int64)


def resample_weights(n_docs: int, n: int = N_BOOTSTRAP, seed: int = SEED) -> np.ndarray:
    """(n, n_docs) counts of how often each document is drawn in each resample."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_docs, size=(n, n_docs))
    flat = (np.arange(n)[:, None] * n_docs + draws).ravel()
    return np.bincount(flat, minlength=n * n_docs).reshape(n, n_docs).astype(np.float64)


def resampled_confusions(D: np.ndarray, W: np.ndarray) -> np.ndarray:
    k = D.shape[-1]
    return (W @ D.reshape(D.shape[0], k * k)).reshape(W.shape[0], k, k)


def bootstrap_interval(D: np.ndarray, metric: Metric, n: int = N_BOOTSTRAP, seed: int = SEED,
                       alpha: float = ALPHA) -> tuple[float, float]:
    """Percentile interval of a metric, resampling whole documents with replacement."""
    return _percentiles(metric(resampled_confusions(D, resample_weights(D.shape[0], n, seed))), alpha)


def _percentiles(values: np.ndarray, alpha: float = ALPHA) -> tuple[float, float]:
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def paired_bootstrap_pvalue(DA: np.ndarray, DB: np.ndarray, metric: Metric = macro_f1_score,
                            n: int = N_BOOTSTRAP, seed: int = SEED) -> tuple[float, float]:
    """(observed difference A - B, two-sided p) from a paired bootstrap over the same documents.

    The resampled differences are centred on their mean (the null of no difference), and
    p = (c + 1) / (n + 1) with c the resamples at least as extreme as observed, as in sacrebleu.
    """
    if DA.shape != DB.shape:
        raise ValueError("paired test needs both models scored on the same documents")
    W = resample_weights(DA.shape[0], n, seed)
    observed = float(metric(DA.sum(axis=0))) - float(metric(DB.sum(axis=0)))
    return observed, _paired_p(metric(resampled_confusions(DA, W)), metric(resampled_confusions(DB, W)), observed)


def _paired_p(resampled_a: np.ndarray, resampled_b: np.ndarray, observed: float) -> float:
    """p of a paired bootstrap from both models' scores on the same resamples."""
    delta = resampled_a - resampled_b
    c = int(np.sum(np.abs(delta - delta.mean()) >= abs(observed) - 1e-12))
    return (c + 1) / (len(delta) + 1)


def rank_models(docs: dict[str, np.ndarray], metric: Metric = macro_f1_score, n: int = N_BOOTSTRAP,
                seed: int = SEED, alpha: float = ALPHA) -> dict[str, dict[str, float | int | str]]:
    """Rank models by score; models the paired test cannot separate from a rank's leader share its rank.

    Models are taken in score order. The best leads rank 1, and the models after it join that rank
    until the first one the paired test separates from the leader at `alpha`; that one leads the
    next rank (numbered by position), and so on. A lower-scoring model therefore never ranks above
    a higher-scoring one. Each model also gets its p-value against the overall leader.
    """
    scores = {m: float(metric(D.sum(axis=0))) for m, D in docs.items()}
    order = sorted(scores, key=lambda m: (-scores[m], m))
    out: dict[str, dict[str, float | int | str]] = {}
    if not order:
        return out
    if len({D.shape for D in docs.values()}) > 1:
        raise ValueError("paired test needs both models scored on the same documents")
    # every paired test uses the same resamples: score each model on them once (one batch for all pairs)
    W = resample_weights(docs[order[0]].shape[0], n, seed)
    boot = {m: metric(resampled_confusions(D, W)) for m, D in docs.items()}

    def p(a: str, b: str) -> float:
        return _paired_p(boot[a], boot[b], scores[a] - scores[b])

    top = order[0]
    lead, rank = order[0], 1
    for position, m in enumerate(order, 1):
        if m != lead and p(lead, m) < alpha:
            lead, rank = m, position
        p_top = 1.0 if m == top else p(top, m)
        out[m] = {"rank": rank, "score": scores[m], "p_value": p_top, "leader": top}
    return out


def report(task: str, y_true: Sequence[str], y_pred: Sequence[str], docs: Sequence[str],
           n: int = N_BOOTSTRAP, seed: int = SEED) -> dict:
    """Headline metrics with document-bootstrap intervals, per-class table and confusion matrix."""
    labels = labels_for(task)
    order, D = doc_confusions(docs, y_true, y_pred, labels)
    C = D.sum(axis=0)
    W = resample_weights(len(order), n, seed)
    Cb = resampled_confusions(D, W)
    headline = {}
    for name, fn in HEADLINE[task].items():
        lo, hi = _percentiles(fn(Cb))
        headline[name] = {"value": float(fn(C)), "ci_low": lo, "ci_high": hi}
    per_class = {lab: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                 for lab, p, r, f, s in zip(labels, precision_per_class(C), recall_per_class(C),
                                            f1_per_class(C), C.sum(axis=1))}
    return {"metrics": headline, "per_class": per_class, "confusion": {"labels": list(labels), "matrix": C.tolist()},
            "doc_confusion": {"docs": order, "counts": D.reshape(len(order), -1).tolist()},
            "n_test": int(C.sum()), "n_docs": len(order), "bootstrap": {"resamples": n, "seed": seed, "unit": "document"}}


def group_macro_f1(groups: Sequence[str], y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str],
                   min_count: int = 1) -> dict[str, dict[str, float | int]]:
    """Macro-F1 per group (actor, source) for groups with at least `min_count` records."""
    names, G = doc_confusions(groups, y_true, y_pred, labels)  # one confusion matrix per group, in one pass
    return {g: {"macro_f1": float(macro_f1_score(C)), "n": int(C.sum())} for g, C in zip(names, G) if C.sum() >= min_count}

