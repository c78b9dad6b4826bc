"""The `actors` task: which actors take a stance in a sentence, given its context?

An example is a sentence with its speaker, speaker's country and source; the gold label is the set
of actors in its `stances` (encoded "NATO|RUS", see `bench.data.tasks`). Both models start from the
gazetteer's candidates (`bench.data.gazetteer.detect`: every registry name or alias in the sentence on
word boundaries, plus the speaker's country when the sentence speaks in the first person):

- `gazetteer` predicts every candidate: the recall ceiling of the candidates, at their precision;
- `actor-filter` is a logistic regression over the candidates (the words around the mention, the
  mention itself, actor id, bloc and kind, whether it is the speaker, the sentence's TF-IDF) that
  keeps those likely to take a stance.

A gold actor that is not among the candidates can be found by neither model: the gap between the
gazetteer's recall and 1 is what a better candidate generator (aliases, coreference) could gain.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..data.gazetteer import detect, gazetteer
from ..data.schema import Actor
from ..data.tasks import decode_set, encode_set

COLUMNS = ("id", "text", "doc", "source", "speaker_actor", "candidates")
WINDOW = 5
_WORD = re.compile(r"\w+", re.UNICODE)


def speaker_actor(context: Mapping[str, Any], actors: Mapping[str, Actor]) -> str | None:
    """The actor the speaker speaks for: `speaker_country`, or the one actor the speaker's name
    names ("Vladimir Putin" -> RUS through the alias "Putin")."""
    sc = context.get("speaker_country")
    if isinstance(sc, str) and sc in actors:
        return sc
    speaker = context.get("speaker")
    if isinstance(speaker, str) and speaker:
        named = set(gazetteer(actors).candidates(speaker))
        if len(named) == 1:
            return named.pop()
    return None


def window(text: str, mention: str | None) -> str:
    """Words around the mention tagged L_/R_ (or the first-person cue for the speaker)."""
    if not mention or mention not in text:
        return "self_speaker"
    i = text.index(mention)
    left = _WORD.findall(text[:i])[-WINDOW:]
    right = _WORD.findall(text[i + len(mention):])[:WINDOW]
    return " ".join([f"L_{w.lower()}" for w in left] + [f"R_{w.lower()}" for w in right]) or "no_context"


def candidates(text: str, context: Mapping[str, Any], actors: Mapping[str, Actor]) -> list[list[Any]]:
    """[[actor, mention or None, bloc, kind], ...] in text order, the speaker's country last."""
    found = detect(text, actors, speaker_actor(context, actors))
    return [[a, m, actors[a].bloc, actors[a].kind] for a, m in found.items() if a in actors]


def actor_row(text: str, context: Mapping[str, Any], actors: Mapping[str, Actor], **extra: Any) -> dict[str, Any]:
    return {"text": text, "speaker_actor": speaker_actor(context, actors) or "",
            "candidates": candidates(text, context, actors), "source": context.get("source", ""), **extra}


def candidate_frame(X: Any) -> tuple[Any, list[int]]:
    """One row per (sentence, candidate) and, for each, the index of its sentence."""
    import pandas as pd

    rows, owner = [], []
    for i, (text, cands, speaker) in enumerate(zip(X["text"], X["candidates"], X["speaker_actor"])):
        for actor, mention, bloc, kind in cands:
            is_speaker = mention is None
            rows.append({"text": text, "window": window(text, mention), "actor": actor, "bloc": bloc, "kind": kind,
                         "mention": (mention or "SPEAKER").lower(),
                         "role": "speaker" if is_speaker else ("named-speaker" if actor == speaker else "named"),
                         "n_candidates": str(min(len(cands), 4))})
            owner.append(i)
    return pd.DataFrame(rows, columns=["text", "window", "actor", "bloc", "kind", "mention", "role", "n_candidates"]), owner


class GazetteerActors(BaseEstimator):
    """Every candidate is predicted to take a stance."""

    def fit(self, X: Any, y: Any = None) -> "GazetteerActors":
        self.fitted_ = True
        return self

    def candidate_proba(self, X: Any) -> list[dict[str, float]]:
        return [{c[0]: 1.0 for c in cands} for cands in X["candidates"]]

    def predict(self, X: Any) -> np.ndarray:
        return np.array([encode_set([c[0] for c in cands]) for cands in X["candidates"]], dtype=object)


class ActorFilter(ClassifierMixin, BaseEstimator):
    """Logistic regression over the gazetteer's candidates: does this candidate take a stance here?"""

    def __init__(self, C: float = 1.0, threshold: float = 0.5, seed: int = 0):
        self.C = C
        self.threshold = threshold
        self.seed = seed

    def _pipeline(self) -> Any:
        from sklearn.compose import ColumnTransformer
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder

        feats = ColumnTransformer([
            ("text", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), "text"),
            ("window", TfidfVectorizer(token_pattern=r"\S+"), "window"),
            ("mention", TfidfVectorizer(ngram_range=(1, 2)), "mention"),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["actor", "bloc", "kind", "role", "n_candidates"]),
        ])
        return Pipeline([("features", feats),
                         ("clf", LogisticRegression(C=self.C, solver="liblinear", class_weight="balanced", random_state=self.seed))])

    def fit(self, X: Any, y: Sequence[str]) -> "ActorFilter":
        return self._fit_path(X, y, [self.C])[0]

    def _fit_path(self, X: Any, y: Sequence[str], Cs: Sequence[float]) -> list["ActorFilter"]:
        """This filter fitted with each C in `Cs` (the first is `self`, the rest clones), the candidates
        and their features built once: each equals `clone(self).set_params(C=c).fit(X, y)`."""
        from sklearn.base import clone
        from sklearn.pipeline import Pipeline

        frame, owner = candidate_frame(X)
        gold = [decode_set(v) for v in y]
        target = np.array([int(a in gold[i]) for a, i in zip(frame["actor"], owner)])
        classes = np.array(sorted(set(map(str, y))), dtype=object)
        fitted, features, matrix = [], None, None
        for i, c in enumerate(Cs):
            f = self.set_params(C=c) if i == 0 else clone(self).set_params(C=c)
            f.classes_, f.constant_ = classes, None
            if len(set(target)) < 2:
                f.constant_ = float(target[0]) if len(target) else 0.0
            else:
                (fname, feats), (cname, clf) = f._pipeline().steps
                if features is None:  # as Pipeline.fit: the features' fit_transform, then the classifier
                    features, matrix = feats, feats.fit_transform(frame, target)
                f.model_ = Pipeline([(fname, features), (cname, clf.fit(matrix, target))])
            fitted.append(f)
        return fitted

    def grid_search(self, grid: dict[str, list[Any]], X: Any, y: Sequence[str], groups: Sequence[str], cv: Any,
                    n_jobs: int = 1) -> tuple["ActorFilter", dict[str, Any], float]:
        """(refitted filter, chosen parameters, mean CV set-F1) as GridSearchCV(scoring=set F1) gives them,
        each fold's candidates and features built once for all C values (#10: 5 feature fits, not 15)."""
        from joblib import Parallel, delayed
        from sklearn.base import clone
        from sklearn.model_selection import ParameterGrid

        candidates = list(ParameterGrid(grid)) if grid else [{}]
        if any(set(p) - {"C"} for p in candidates):
            raise ValueError(f"ActorFilter.grid_search searches C only, not {sorted(set().union(*candidates) - {'C'})}")
        Cs = [p.get("C", self.C) for p in candidates]
        y = list(y)
        folds = list(cv.split(X, y, groups))
        scores = Parallel(n_jobs=n_jobs)(delayed(_fold_scores)(self, Cs, X, y, tr, te) for tr, te in folds)
        from .search import best_index

        means = np.asarray(scores, dtype=float).mean(axis=0)
        best = best_index(means)
        return clone(self).set_params(C=Cs[best]).fit(X, y), dict(candidates[best]), float(means[best])

    def candidate_proba(self, X: Any) -> list[dict[str, float]]:
        """For each sentence, each candidate's probability of taking a stance."""
        frame, owner = candidate_frame(X)
        return self._sentence_proba(len(X), frame, owner)

    def _sentence_proba(self, n: int, frame: Any, owner: list[int], matrix: Any = None) -> list[dict[str, float]]:
        """`candidate_proba` from the candidate frame of `n` sentences (and its features, if already built)."""
        out: list[dict[str, float]] = [{} for _ in range(n)]
        if not len(frame):
            return out
        if self.constant_ is not None:
            p = np.full(len(frame), self.constant_)
        else:
            p = (self.model_[-1].predict_proba(matrix) if matrix is not None else self.model_.predict_proba(frame))[:, 1]
        for actor, i, v in zip(frame["actor"], owner, p):
            out[i][actor] = float(v)
        return out

    def _encode(self, proba: list[dict[str, float]]) -> np.ndarray:
        return np.array([encode_set([a for a, v in ps.items() if v >= self.threshold]) for ps in proba], dtype=object)

    def predict(self, X: Any) -> np.ndarray:
        return self._encode(self.candidate_proba(X))


def _fold_scores(est: ActorFilter, Cs: Sequence[float], X: Any, y: list[str], train: Any, test: Any) -> list[float]:
    from sklearn.base import clone

    from ..data.tasks import set_f1

    fitted = clone(est)._fit_path(X.iloc[train], [y[i] for i in train], Cs)
    frame, owner = candidate_frame(X.iloc[test])
    shared = next((f.model_ for f in fitted if f.constant_ is None), None)  # the features all C values share
    matrix = shared[0].transform(frame) if shared is not None and len(frame) else None
    gold = [y[i] for i in test]
    return [set_f1(gold, f._encode(f._sentence_proba(len(test), frame, owner, matrix))) for f in fitted]


def _gazetteer(task: str, seed: int) -> Any:
    return GazetteerActors()


def _filter(task: str, seed: int) -> Any:
    return ActorFilter(seed=seed)


def register_models() -> None:
    from .registry import register

    register("gazetteer", _gazetteer, tasks=("actors",),
             description="every registry name/alias on word boundaries, plus the speaker's country for first-person sentences")
    register("actor-filter", _filter, grid={"C": [0.3, 1.0, 3.0]}, tasks=("actors",),
             description="logistic regression over the gazetteer's candidates: window, mention, actor, bloc, speaker, sentence TF-IDF")
