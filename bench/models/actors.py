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
        C, owner = candidate_frame(X)
        gold = [decode_set(v) for v in y]
        target = np.array([int(a in gold[i]) for a, i in zip(C["actor"], owner)])
        self.classes_ = np.array(sorted(set(map(str, y))), dtype=object)
        self.constant_ = None
        if len(set(target)) < 2:
            self.constant_ = float(target[0]) if len(target) else 0.0
            return self
        self.model_ = self._pipeline().fit(C, target)
        return self

    def candidate_proba(self, X: Any) -> list[dict[str, float]]:
        """For each sentence, each candidate's probability of taking a stance."""
        C, owner = candidate_frame(X)
        out: list[dict[str, float]] = [{} for _ in range(len(X))]
        if not len(C):
            return out
        p = np.full(len(C), self.constant_) if self.constant_ is not None else self.model_.predict_proba(C)[:, 1]
        for actor, i, v in zip(C["actor"], owner, p):
            out[i][actor] = float(v)
        return out

    def predict(self, X: Any) -> np.ndarray:
        return np.array([encode_set([a for a, v in ps.items() if v >= self.threshold]) for ps in self.candidate_proba(X)],
                        dtype=object)


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
