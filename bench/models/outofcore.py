"""Training on more rows than fit in memory: `partial_fit` over chunks of a stream.

For models whose features need no vocabulary (`hashing-sgd`: HashingVectorizer) and whose
classifier learns incrementally (SGDClassifier), the training rows can be read chunk by chunk: the
feature transformer is fitted on the first chunk only (hashing is stateless; the actor one-hot
learns the actors seen there and ignores others), every chunk is transformed and passed to
`partial_fit`, and only one chunk's matrix is held at a time. `partial_fit` does not take
class_weight="balanced", so the balanced weights are computed from a first pass over the labels.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Iterable


def balanced_weights(labels: Iterable[str]) -> dict[str, float]:
    """n / (k * count) per class, as scikit-learn's class_weight="balanced"."""
    counts = Counter(labels)
    n, k = sum(counts.values()), len(counts)
    return {c: n / (k * m) for c, m in sorted(counts.items())}


def fit_chunks(est: Any, chunks: Callable[[], Iterable[tuple[Any, list[str]]]], epochs: int = 1) -> Any:
    """Fit a (features, classifier) Pipeline on the (X, y) chunks that `chunks()` yields, in passes.

    `chunks` is called once for the label count and once per epoch, so the data can be re-read
    from disk or regenerated; memory holds one chunk at a time.
    """
    from sklearn.base import clone

    (fname, features), (cname, clf) = est.steps
    weights = balanced_weights(lab for _, y in chunks() for lab in y)
    classes = sorted(weights)
    clf = clone(clf)
    if clf.get_params().get("class_weight") == "balanced":
        clf.set_params(class_weight=weights)
    fitted = None
    for _ in range(epochs):
        for X, y in chunks():
            if fitted is None:
                fitted = clone(features).fit(X, y)
            clf.partial_fit(fitted.transform(X), y, classes=classes)
    if fitted is None:
        raise ValueError("no training rows")
    from sklearn.pipeline import Pipeline

    return Pipeline([(fname, fitted), (cname, clf)])
