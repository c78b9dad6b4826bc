"""Uncertainty sampling: the presented order is the model's margin order (apart from the seeded random
mix), refits happen in the background every N answers, and nothing of a prediction reaches the screen."""
from __future__ import annotations

import json
import math
import random
import threading
from pathlib import Path

import numpy as np
import pytest

from bench.annotation import active
from bench.annotation.active import chosen_params, item_margins, margin_scores
from bench.annotation.labeller import dataset_session
from bench.data.schema import load_actors

from .conftest import pool_labels, read


@pytest.fixture()
def pool(tmp_path: Path) -> tuple[Path, list[dict]]:
    return pool_labels(tmp_path / "labels", "us-presidents", docs_per_dataset=6)


FAST = "tfidf-cnb"  # quick to fit on a loaded machine; tfidf-lr (the default) is used in the order test


def test_item_margin_is_the_smallest_over_tension_and_suggested_stances(pool):
    import pandas as pd

    from bench.data.features import stance_row
    from bench.annotation.labeller import suggest_actors_in

    lab, items = pool
    actors = load_actors(lab / "actors.toml")
    ests = {t: active.fit(FAST, t, lab, actors, {}, 0) for t in active.RANKED_TASKS}
    got = item_margins(items, ests, actors)
    for it in items:
        m = [margin_scores(ests["tension"].predict_proba(pd.DataFrame([{"text": it["text"]}])))[0]]
        rows = [stance_row(it["text"], a, mn, actors) for a, mn in suggest_actors_in(it["text"], actors, it.get("speaker_country"))]
        if rows:
            m += list(margin_scores(ests["stance"].predict_proba(pd.DataFrame(rows))))
        assert got[it["id"]] == pytest.approx(min(m))


def skip_keys(n: int) -> str:
    return "s1" * n  # skipping changes no training data, so the ranking stays that of one fit


def test_margin_is_top1_minus_top2():
    m = margin_scores(np.array([[0.5, 0.3, 0.2], [0.34, 0.33, 0.33], [0.0, 1.0, 0.0]]))
    assert np.allclose(m, [0.2, 0.01, 1.0])


def test_chosen_params_come_from_the_manifest(tmp_path):
    assert chosen_params("tfidf-lr", "stance", tmp_path) == {}
    p = tmp_path / "document" / "stance" / "tfidf-lr.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps({"params": {"clf__C": 3.0}}))
    assert chosen_params("tfidf-lr", "stance", tmp_path) == {"clf__C": 3.0}


def test_uncertain_order_follows_the_margins_with_a_seeded_random_mix(pool):
    lab, items = pool
    actors = load_actors(lab / "actors.toml")
    s = dataset_session(lab, order="uncertain", refit_every=1000, seed=3)  # the default model, tfidf-lr
    expected = dict(s.order.margins)
    assert set(expected) == {x["id"] for x in items}
    assert len({round(v, 9) for v in expected.values()}) > len(items) // 2  # margins really differ
    s.order.random_share = 0.25
    s.start()
    for k in skip_keys(len(items)):
        s.key(k)
    shown = read(lab / "pool" / "skipped.jsonl")
    assert sorted(x["id"] for x in shown) == sorted(x["id"] for x in items)
    rng, remaining = random.Random(3), list(items)
    n_random = 0
    for line in shown:
        draw = rng.random()
        best = min(remaining, key=lambda it: (expected[it["id"]], remaining.index(it)))
        if draw < 0.25:
            want, sel = remaining[rng.randrange(len(remaining))], "random"
            n_random += 1
        else:
            want, sel = best, f"uncertain:{expected[best['id']]:.4f}"
        assert (line["id"], line["selected_by"]) == (want["id"], sel)
        remaining.remove(want)
    assert 0 < n_random < len(items)


def test_the_screen_never_shows_the_model(pool):
    """The same sentence looks the same whichever order picked it (bar the 'picked by' words)."""
    lab, items = pool
    s = dataset_session(lab, order="uncertain", refit_every=1000, model=FAST)
    a = s.start()
    p = dataset_session(lab, order="pool")
    p.items = [x for x in items if x["text"] == a.text]
    b = p.start()
    strip = lambda sc: {**sc.__dict__, "status": "", "header": sc.header.split(" · picked by")[0].split(" · ", 3)[-1]}  # noqa: E731
    assert strip(a) == strip(b)
    assert a.header.split(" · picked by ")[1] in ("uncertainty sampling", "random") and a.status == ""
    for k in "h":
        a, b = s.key(k), p.key(k)
        assert strip(a) == strip(b)


def test_refit_every_n_answers_in_the_background(pool, monkeypatch):
    lab, items = pool
    s = dataset_session(lab, order="uncertain", refit_every=3, model=FAST)
    chooser = s.order
    assert chooser.fits == 1
    gate, seen = threading.Event(), []
    real = chooser.compute

    def slow(its):
        seen.append([it["id"] for it in its])
        gate.wait()
        return real(its)

    monkeypatch.setattr(chooser, "compute", slow)
    s.start()
    for k in skip_keys(3):
        s.key(k)
    assert chooser._thread is not None and chooser._thread.is_alive()
    screen = s.key("s")  # the labeller goes on while the model refits
    screen = s.key("1")
    assert screen.message.startswith("skipped") and chooser.fits == 1
    gate.set()
    chooser.wait()
    assert chooser.fits == 2
    done = {x["id"] for x in read(lab / "pool" / "skipped.jsonl")[:3]}
    assert set(seen[0]) == {x["id"] for x in items} - done
    assert set(chooser.margins) == set(seen[0]) and all(math.isfinite(v) for v in chooser.margins.values())


def test_cold_start_without_labels_falls_back_to_random(tmp_path):
    lab, items = pool_labels(tmp_path / "labels", "kremlin")
    for p in lab.glob("*.jsonl"):
        p.unlink()
    s = dataset_session(lab, order="uncertain", model=FAST)
    s.start()
    s.key("s")
    s.key("1")
    assert read(lab / "pool" / "skipped.jsonl")[0]["selected_by"] == "random"


def test_first_fit_does_not_block_random_picks_until_ready(pool, monkeypatch):
    lab, items = pool
    gate = threading.Event()
    real = active.UncertainOrder.compute

    def slow(self, its):
        gate.wait()
        return real(self, its)

    monkeypatch.setattr(active.UncertainOrder, "compute", slow)
    s = dataset_session(lab, order="uncertain", model=FAST, wait=False)
    screen = s.start()
    assert "picked by random" in screen.header and "random picks until it is ready" in screen.status
    gate.set()
    s.order.wait()
    s.key("s")
    screen = s.key("1")
    assert s.order.fits == 1 and screen.status == ""
    assert [x["selected_by"] for x in read(lab / "pool" / "skipped.jsonl")] == ["random"]


def test_label_order_uncertain_from_the_command_line(pool):
    from typer.testing import CliRunner

    from bench.cli import app
    from bench.data.schema import SELECTED_BY

    lab, items = pool
    res = CliRunner().invoke(app, ["label", "--labels", str(lab), "--order", "uncertain", "--model", FAST,
                                   "--refit-every", "1", "--seed", "1"], input="s1s2q")
    assert res.exit_code == 0, res.output
    lines = read(lab / "pool" / "skipped.jsonl")
    assert len(lines) == 2 and all(SELECTED_BY.fullmatch(x["selected_by"]) for x in lines)
    assert "quit: 2 answer(s) saved" in res.output
