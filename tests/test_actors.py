"""The actors task: set metrics, the two models, evaluation, the human row, the export and the CLI."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from typer.testing import CliRunner

from bench.scoring import metrics
from bench.models.actors import ActorFilter, GazetteerActors, candidates, speaker_actor
from bench.cli import app
from bench.data.features import examples
from bench.data.schema import load_actors
from bench.data.store import load_records
from bench.data.tasks import TASK_SPECS, decode_set, encode_set, scored_pairs, set_f1

from .conftest import LABELS, read

runner = CliRunner()
ACTORS = load_actors(LABELS / "actors.toml")
IDS = st.sampled_from(["NATO", "RUS", "USA", "UKR", "GEO"])


@given(st.lists(st.tuples(st.sets(IDS), st.sets(IDS), st.sampled_from("abc")), min_size=1, max_size=12))
def test_set_metrics_equal_a_direct_count(rows: list[tuple[set, set, str]]) -> None:
    gold, pred, docs = [encode_set(g) for g, _, _ in rows], [encode_set(p) for _, p, _ in rows], [d for *_, d in rows]
    tp = sum(len(g & p) for g, p, _ in rows)
    fp = sum(len(p - g) for g, p, _ in rows)
    fn = sum(len(g - p) for g, p, _ in rows)
    g, p, d = scored_pairs("actors", gold, pred, docs)
    order, D = metrics.doc_confusions(d, g, p, ("present", "absent"))
    C = D.sum(axis=0)
    assert (C[0, 0], C[1, 0], C[0, 1]) == (tp, fp, fn)
    assert order == sorted(set(docs))  # every document is kept, even with empty sets
    expected = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    assert float(metrics.set_f1_score(C)) == pytest.approx(expected)
    assert set_f1(gold, pred) == pytest.approx(expected)
    assert [decode_set(x) for x in gold] == [g for g, _, _ in rows]


def test_speaker_and_candidates() -> None:
    assert speaker_actor({"speaker_country": "BLR"}, ACTORS) == "BLR"
    assert speaker_actor({"speaker": "Vladimir Putin"}, ACTORS) == "RUS"
    assert speaker_actor({"speaker": "Someone Unknown"}, ACTORS) is None
    cands = candidates("We reject the plans of NATO.", {"speaker_country": "BLR"}, ACTORS)
    assert [c[:2] for c in cands] == [["NATO", "NATO"], ["BLR", None]]
    assert candidates("NATO met.", {"speaker_country": "BLR"}, ACTORS)[0][0] == "NATO"


def test_models_choose_among_the_candidates(labels: Path) -> None:
    ex = examples(load_records(labels), "actors", load_actors(labels / "actors.toml"))
    gz = GazetteerActors().fit(ex.X, ex.y).predict(ex.X)
    flt = ActorFilter(C=1.0).fit(ex.X, ex.y)
    pred = flt.predict(ex.X)
    for row, a, b in zip(ex.X["candidates"], gz, pred):
        cands = {c[0] for c in row}
        assert decode_set(a) == cands and decode_set(b) <= cands
    # fitted on these sentences the filter must beat keeping every candidate
    assert set_f1(ex.y, list(pred)) > set_f1(ex.y, list(gz))


def test_train_eval_leaderboard_and_human_row(labels: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(LABELS / "agreement", labels / "agreement", dirs_exist_ok=True)
    common = ["--labels", str(labels), "--models", str(models)]
    res = runner.invoke(app, ["train", "-t", "actors", *common])
    assert res.exit_code == 0, res.output
    assert {p.stem for p in (models / "document" / "actors").glob("*.joblib")} == {"gazetteer", "actor-filter"}
    res = runner.invoke(app, ["eval", "-t", "actors", "--no-details", *common])
    assert res.exit_code == 0, res.output
    recs = {r["model"]: r for r in read(models / "leaderboard.jsonl") if r["task"] == "actors"}
    assert set(recs) == {"gazetteer", "actor-filter", "human"}
    for r in recs.values():
        assert set(r["metrics"]) == {"f1", "precision", "recall"}
        m = r["metrics"]["f1"]
        assert m["ci_low"] <= m["value"] <= m["ci_high"]
    assert recs["gazetteer"]["n_docs"] == recs["actor-filter"]["n_docs"]
    assert {recs["gazetteer"]["rank"], recs["actor-filter"]["rank"]} <= {1, 2}
    # the human row is the second annotator's actor sets against gold, counted directly
    from bench.annotation.agreement import read_annotation

    gold = {r.id: r for r in load_records(labels)}
    second = read_annotation(labels / "agreement" / "second.jsonl")
    tp = fp = fn = 0
    for i, ann in second.items():
        if i in gold and "skip" not in ann:
            G, S = {s["actor"] for s in gold[i]["stances"]}, {s["actor"] for s in ann.get("stances", [])}
            tp, fp, fn = tp + len(G & S), fp + len(S - G), fn + len(G - S)
    assert recs["human"]["metrics"]["f1"]["value"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    md = (models / "LEADERBOARD.md").read_text()
    assert "## actors · document split" in md and "| rank | model | f1 | precision | recall |" in md
    res = runner.invoke(app, ["leaderboard", "-t", "actors", *common])
    assert res.exit_code == 0 and "actor-filter" in res.output
    res = runner.invoke(app, ["compare", "actor-filter", "gazetteer", "--task", "actors", *common])
    assert res.exit_code == 0, res.output
    assert "f1 actor-filter" in res.output and "paired bootstrap" in res.output


def test_hf_actors_config(labels: Path) -> None:
    from bench.data.hf import load_dataset
    from bench.data.splits import select

    dd = load_dataset("actors", labels=labels)
    test = select(load_records(labels), "document", "test")
    assert dd["test"]["id"] == [r.id for r in test]
    assert dd["test"]["actors"] == [sorted({s["actor"] for s in r["stances"]}) for r in test]
    assert "speaker_country" in dd["test"].features and TASK_SPECS["actors"].primary == "f1"



def test_actor_filter_searches_as_grid_search_cv(labels: Path) -> None:
    """Its own search builds each fold's candidates and features once for all C values and chooses,
    scores and refits exactly as GridSearchCV over the whole estimator."""
    import numpy as np
    from sklearn.model_selection import GridSearchCV

    from bench.data.splits import select
    from bench.data.tasks import cv_scoring
    from bench.models import registry
    from bench.models.training import search, task_cv

    ex = examples(select(load_records(labels), "document", "train"), "actors", load_actors(labels / "actors.toml"))
    grid = registry.get("actor-filter").grid
    gs = GridSearchCV(ActorFilter(seed=0), grid, scoring=cv_scoring("actors"), cv=task_cv("actors", 0))
    gs.fit(ex.X, ex.y, groups=ex.groups)
    model, params, score = search("actor-filter", "actors", ex.X, ex.y, ex.groups, seed=0, n_jobs=2)
    assert params == gs.best_params_ and score == gs.best_score_
    own = ActorFilter(seed=0).grid_search(grid, ex.X, ex.y, ex.groups, task_cv("actors", 0))[0]
    assert model.C == own.C == gs.best_estimator_.C
    np.testing.assert_array_equal(model.model_[-1].coef_, gs.best_estimator_.model_[-1].coef_)
    assert list(model.predict(ex.X)) == list(gs.best_estimator_.predict(ex.X))
    # every grid point's fold scores, not only the winner's
    from bench.models.actors import _fold_scores

    folds = list(task_cv("actors", 0).split(ex.X, ex.y, ex.groups))
    mine = np.array([_fold_scores(ActorFilter(seed=0), grid["C"], ex.X, list(ex.y), tr, te) for tr, te in folds]).T
    theirs = np.array([gs.cv_results_[f"split{k}_test_score"] for k in range(len(folds))]).T
    np.testing.assert_array_equal(mine, theirs)
    with pytest.raises(ValueError, match="searches C only"):
        ActorFilter().grid_search({"threshold": [0.4]}, ex.X, ex.y, ex.groups, task_cv("actors", 0))
