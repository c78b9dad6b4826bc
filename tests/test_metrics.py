from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, mean_absolute_error

from bench.scoring import metrics as m
from bench.data.schema import STANCES, TENSIONS


def test_stance_metrics_by_hand() -> None:
    gold = ["pro-cooperation", "pro-cooperation", "cautious", "deterrence-seeking", "deterrence-seeking", "deterrence-seeking"]
    pred = ["pro-cooperation", "deterrence-seeking", "cautious", "deterrence-seeking", "pro-cooperation", "cautious"]
    C = m.confusion(gold, pred, STANCES)
    # F1: pro 2*1/(2+2)=0.5, cautious 2*1/(1+2)=2/3, deterrence 2*1/(3+2)=0.4
    assert m.f1_per_class(C) == pytest.approx([0.5, 2 / 3, 0.4])
    assert m.macro_f1_score(C) == pytest.approx((0.5 + 2 / 3 + 0.4) / 3)
    assert m.macro_f1_score(C) == pytest.approx(f1_score(gold, pred, average="macro"))
    assert m.accuracy_score(C) == pytest.approx(3 / 6)
    assert m.f_pol_score(C) == pytest.approx((0.5 + 0.4) / 2)
    assert m.severe_error_rate(C) == pytest.approx(2 / 6)


def test_tension_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    gold = list(rng.choice(TENSIONS, 200))
    pred = list(rng.choice(TENSIONS, 200))
    C = m.confusion(gold, pred, TENSIONS)
    g = [TENSIONS.index(x) for x in gold]
    p = [TENSIONS.index(x) for x in pred]
    assert m.mean_absolute_error(C) == pytest.approx(mean_absolute_error(g, p))
    assert m.quadratic_kappa_score(C) == pytest.approx(cohen_kappa_score(g, p, weights="quadratic"))
    assert m.accuracy_score(C) == pytest.approx(accuracy_score(gold, pred))
    assert m.macro_f1_score(C) == pytest.approx(f1_score(gold, pred, average="macro"))


def test_hand_computed_mae_and_kappa() -> None:
    C = np.array([[2, 0, 0], [0, 1, 1], [1, 0, 1]])  # one off-by-one, one off-by-two of six
    assert m.mean_absolute_error(C) == pytest.approx(3 / 6)
    # kappa by hand, weights (i-j)^2: observed sum w*C = 1*1 + 4*1 = 5; rows (2,2,2), columns (3,1,2),
    # N=6: expected sum_ij w_ij r_i c_j / N = 2*(9 + 5 + 13)/6 = 9; kappa = 1 - 5/9
    assert m.quadratic_kappa_score(C) == pytest.approx(4 / 9)


def test_macro_f1_ignores_classes_absent_from_gold_and_predictions() -> None:
    C = np.array([[3, 1, 0], [1, 2, 0], [0, 0, 0]])
    assert m.macro_f1_score(C) == pytest.approx(np.mean(m.f1_per_class(C)[:2]))


def test_metrics_vectorise_over_stacks() -> None:
    C = np.array([[[3, 1, 0], [1, 2, 0], [0, 0, 4]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]])
    assert m.accuracy_score(C).shape == (2,)
    assert m.accuracy_score(C)[1] == 1.0


def test_bootstrap_interval_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(3)
    docs = [f"d{i % 40}" for i in range(400)]
    gold = list(rng.choice(STANCES, 400))
    pred = [g if rng.random() < 0.7 else rng.choice(STANCES) for g in gold]
    order, D = m.doc_confusions(docs, gold, pred, STANCES)
    W = m.resample_weights(len(order), 200, seed=5)
    loop = [float(m.macro_f1_score(sum(int(w) * D[i] for i, w in enumerate(row)))) for row in W]
    fast = m.macro_f1_score(m.resampled_confusions(D, W))
    assert fast == pytest.approx(loop)
    lo, hi = m.bootstrap_interval(D, m.accuracy_score, n=1000, seed=0)
    acc = m.accuracy_score(D.sum(0))
    assert lo < acc < hi and hi - lo < 0.2


def test_bootstrap_of_identical_documents_has_no_width() -> None:
    D = np.tile(np.array([[2, 1, 0], [0, 3, 0], [0, 1, 3]]), (30, 1, 1))
    lo, hi = m.bootstrap_interval(D, m.macro_f1_score)
    assert lo == pytest.approx(hi) == pytest.approx(m.macro_f1_score(D[0]))


def test_bootstrap_interval_of_a_known_proportion() -> None:
    # 100 one-sentence documents, 70 right: the accuracy interval is close to the binomial one (0.61, 0.79)
    D = np.zeros((100, 3, 3), dtype=int)
    D[:70, 0, 0] = 1
    D[70:, 0, 1] = 1
    lo, hi = m.bootstrap_interval(D, m.accuracy_score, n=4000)
    assert lo == pytest.approx(0.61, abs=0.02) and hi == pytest.approx(0.79, abs=0.02)


def test_paired_test_separates_clear_differences_and_not_identical_models() -> None:
    rng = np.random.default_rng(0)
    docs = [f"d{i % 60}" for i in range(600)]
    gold = list(rng.choice(STANCES, 600))
    good = [g if rng.random() < 0.9 else rng.choice(STANCES) for g in gold]
    bad = [g if rng.random() < 0.4 else rng.choice(STANCES) for g in gold]
    _, DG = m.doc_confusions(docs, gold, good, STANCES)
    _, DB = m.doc_confusions(docs, gold, bad, STANCES)
    diff, p = m.paired_bootstrap_pvalue(DG, DB)
    assert diff > 0.2 and p < 0.01
    diff, p = m.paired_bootstrap_pvalue(DG, DG)
    assert diff == 0 and p == 1.0


def test_tied_models_share_a_rank() -> None:
    rng = np.random.default_rng(2)
    docs = [f"d{i % 50}" for i in range(500)]
    gold = list(rng.choice(STANCES, 500))
    a = [g if rng.random() < 0.85 else rng.choice(STANCES) for g in gold]
    b = list(a)
    for i in range(0, 500, 97):  # nearly identical to a
        b[i] = gold[i] if a[i] != gold[i] else b[i]
    c = [g if rng.random() < 0.3 else rng.choice(STANCES) for g in gold]
    Ds = {name: m.doc_confusions(docs, gold, pred, STANCES)[1] for name, pred in (("a", a), ("b", b), ("c", c))}
    ranks = m.rank_models(Ds)
    assert ranks["a"]["rank"] == ranks["b"]["rank"] == 1
    assert ranks["c"]["rank"] == 3
    assert ranks["c"]["p_value"] < 0.05


def test_a_lower_score_never_ranks_above_a_higher_one() -> None:
    """A noisy low scorer that the test cannot separate from the leader must not jump a clearly
    separated middle model: ranks follow score order."""
    rng = np.random.default_rng(7)
    docs = [f"d{i % 40}" for i in range(800)]
    gold = list(rng.choice(STANCES, 800))
    a = [g if rng.random() < 0.95 else rng.choice(STANCES) for g in gold]
    b = [g if rng.random() < 0.85 else rng.choice(STANCES) for g in gold]
    # c: right on most documents, badly wrong on a few: high variance, mean below b
    c = [g if (i % 40) >= 6 else STANCES[(STANCES.index(g) + 1) % 3] for i, g in enumerate(gold)]
    Ds = {name: m.doc_confusions(docs, gold, pred, STANCES)[1] for name, pred in (("a", a), ("b", b), ("c", c))}
    ranks = m.rank_models(Ds)
    by_score = sorted(ranks, key=lambda k: -ranks[k]["score"])
    assert [ranks[k]["rank"] for k in by_score] == sorted(ranks[k]["rank"] for k in by_score)


def test_report_has_everything_the_leaderboard_needs() -> None:
    gold = ["low", "medium", "high", "low"] * 10
    pred = ["low", "high", "high", "medium"] * 10
    rep = m.report("tension", gold, pred, [f"d{i // 4}" for i in range(40)])
    assert set(rep["metrics"]) == {"macro_f1", "accuracy", "mae", "qwk"}
    for v in rep["metrics"].values():
        assert v["ci_low"] <= v["value"] <= v["ci_high"]
    assert rep["n_test"] == 40 and rep["n_docs"] == 10
    assert sum(map(sum, rep["confusion"]["matrix"])) == 40
