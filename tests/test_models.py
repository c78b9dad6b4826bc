from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.models import artifacts as models_errors
from bench.models import registry as models
from bench.data.features import examples, mark
from bench.data.schema import load_actors
from bench.data.splits import select
from bench.data.store import load_records
from bench.models.training import cv


def test_registry_has_the_baselines() -> None:
    for name in ("majority", "stratified", "actor-prior", "tfidf-lr-blind", "tfidf-lr", "tfidf-svm", "tfidf-cnb", "hashing-sgd", "minilm-lr"):
        assert name in models.REGISTRY
    assert models.get("actor-prior").tasks == ("stance",)
    with pytest.raises(models_errors.UnknownModelError, match="unknown model"):
        models.get("gpt-9")
    with pytest.raises(models_errors.ModelError, match="does not do the tension task"):
        models.require("actor-prior", "tension")


def test_register_a_new_model() -> None:
    from sklearn.dummy import DummyClassifier

    spec = models.register("test-constant", lambda task, seed: DummyClassifier(strategy="prior"), tasks=("tension",))
    try:
        assert models.get("test-constant") is spec
        assert spec.factory("tension", 0).strategy == "prior"
    finally:
        models.REGISTRY.pop("test-constant")


def test_actor_prior_predicts_each_actors_majority() -> None:
    X = pd.DataFrame({"actor": ["RUS", "RUS", "RUS", "USA", "USA", "EST"]})
    y = ["cautious", "cautious", "pro-cooperation", "deterrence-seeking", "deterrence-seeking", "deterrence-seeking"]
    est = models.ActorPrior().fit(X, y)
    pred = est.predict(pd.DataFrame({"actor": ["RUS", "USA", "GEO"]}))
    assert list(pred) == ["cautious", "deterrence-seeking", "deterrence-seeking"]  # GEO unseen: overall majority
    proba = est.predict_proba(pd.DataFrame({"actor": ["RUS"]}))
    assert proba.sum() == pytest.approx(1.0)
    assert dict(zip(est.classes_, proba[0]))["cautious"] == pytest.approx(2 / 3)


def test_mention_marking_reaches_the_features() -> None:
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer

    marked, window = mark("Estonia asked NATO for more troops.", "NATO")
    assert "L_asked" in window and "R_for" in window
    vocab = TfidfVectorizer(ngram_range=(1, 2)).fit([marked]).vocabulary_
    assert {"actorstart nato", "nato actorend", "actorend for"} <= set(vocab)  # the tokenizer keeps the markers
    other, _ = mark("Estonia asked NATO for more troops.", "Estonia")
    h = HashingVectorizer(n_features=2**12, ngram_range=(1, 2))  # as in hashing-sgd
    assert (h.transform([marked]) != h.transform([other])).nnz > 0  # same sentence, another actor: other features
    speaker, window = mark("We want peace.", None)
    assert speaker.startswith("actorspeaker") and window == "self_speaker"


def test_grouped_folds_never_split_a_document(labels: Path) -> None:
    records = load_records(labels)
    ex = examples(select(records, "document", "train"), "stance", load_actors(labels / "actors.toml"))
    groups = np.array(ex.groups)
    for train_idx, test_idx in cv(0, 3).split(ex.X, ex.y, groups):
        assert not set(groups[train_idx]) & set(groups[test_idx])


@pytest.mark.parametrize("name", ["tfidf-lr", "tfidf-svm", "tfidf-cnb", "hashing-sgd", "tfidf-lr-blind", "stratified"])
def test_every_model_fits_and_predicts_probabilities(labels: Path, name: str) -> None:
    records = load_records(labels)
    ex = examples(records, "stance", load_actors(labels / "actors.toml"))
    est = models.get(name).factory("stance", 0).fit(ex.X, ex.y)
    proba = est.predict_proba(ex.X.iloc[:5])
    assert proba.shape == (5, len(set(ex.y))) and np.allclose(proba.sum(axis=1), 1)


def test_actor_aware_model_uses_the_actor() -> None:
    """Same sentence, two actors with opposite stances: the blind model cannot tell them apart."""
    actors = load_actors(Path(__file__).resolve().parent.parent / "labels" / "actors.toml")
    from bench.data.features import stance_row

    rows, y = [], []
    for i in range(30):
        text = f"Estonia asked for more troops while France urged restraint in case {i}."
        rows.append(stance_row(text, "EST", "Estonia", actors, id=f"{i}a", doc=f"d{i}", source="t"))
        y.append("deterrence-seeking")
        rows.append(stance_row(text, "FRA", "France", actors, id=f"{i}b", doc=f"d{i}", source="t"))
        y.append("cautious")
    X = pd.DataFrame(rows)
    aware = models.get("tfidf-lr").factory("stance", 0).fit(X, y)
    blind = models.get("tfidf-lr-blind").factory("stance", 0).fit(X, y)
    assert (aware.predict(X) == np.array(y)).mean() == 1.0
    assert (blind.predict(X) == np.array(y)).mean() == 0.5  # each pair gets one prediction: one of two right
