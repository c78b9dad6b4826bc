"""Second annotation of a stratified sample (blind) and adjudication of scripted disagreements."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import given, strategies as st
from typer.testing import CliRunner

from bench.annotation.adjudication import AdjudicationSession, disagrees, draw_sample, second_session, stratified_sample
from bench.annotation.agreement import agreement, human_records
from bench.cli import app
from bench.annotation.labeller import suggest_actors_in
from bench.data.schema import load_actors
from bench.data.store import check_store, load_records

from .conftest import read, small_labels

runner = CliRunner()


@given(st.lists(st.sampled_from("abcd"), min_size=1, max_size=60), st.integers(0, 80), st.integers(0, 5))
def test_stratified_sample_is_proportional_and_seeded(sources, n, seed):
    pop = [{"id": f"i{k}", "source": s} for k, s in enumerate(sources)]
    got = stratified_sample(pop, n, seed)
    assert len(got) == min(n, len(pop)) and len({g["id"] for g in got}) == len(got)
    have, total = Counter(g["source"] for g in got), Counter(sources)
    for s, c in total.items():
        assert abs(have[s] - len(got) * c / len(pop)) < 1 + 1e-9
    assert got == stratified_sample(list(reversed(pop)), n, seed)


def keys_for(item_text: str, lab: Path, tension: str, first_stance: str = "p", speaker_country: str | None = None) -> str:
    k = len(suggest_actors_in(item_text, load_actors(lab / "actors.toml"), speaker_country))
    return tension + (first_stance + "n" * (k - 1) if k else "") + "\r"


def test_second_annotation_is_blind_and_resumable(tmp_path):
    lab = small_labels(tmp_path / "labels", 8)
    before = {p.name: p.read_bytes() for p in lab.glob("*.jsonl")}
    res = runner.invoke(app, ["label", "--agreement", "--annotator", "B", "--sample", "6", "--labels", str(lab)], input="q")
    assert res.exit_code == 0, res.output
    first = read(lab / "agreement" / "first.jsonl")
    assert len(first) == 6
    records = {r.id: r for r in load_records(lab)}
    for f in first:
        r = records[f["id"]]
        assert (f["tension"], f["stances"]) == (r["tension"], r["stances"])
    # the screen of the first sentence shows no label of the first annotation
    s = second_session(lab, "B")
    screen = s.start()
    assert screen.answer == ["tension: ?"] and screen.text == first[0]["text"]
    assert f"tension {first[0]['tension']}" not in str(screen.__dict__)
    # answer two, quit, resume with the rest
    for f in first[:2]:
        for k in keys_for(f["text"], lab, "h", speaker_country=records[f["id"]].get("speaker_country")):
            s.key(k)
    s.key("q")
    assert [x["id"] for x in read(lab / "agreement" / "second.jsonl")] == [f["id"] for f in first[:2]]
    s = second_session(lab, "B", sample=99)  # a pending sample is resumed, not redrawn
    assert s.start().text == first[2]["text"]
    s.key("s")
    s.key("2")
    s.key("u")
    assert len(read(lab / "agreement" / "second.jsonl")) == 2
    assert len(read(lab / "agreement" / "first.jsonl")) == 6
    assert {p.name: p.read_bytes() for p in lab.glob("*.jsonl")} == before  # the datasets are untouched


def make_disagreements(lab: Path) -> list[dict]:
    """Three sampled sentences, second-annotated by script so that each differs from the first."""
    first = draw_sample(lab, 3, seed=1)
    s = second_session(lab, "B")
    s.start()
    recs = {r.id: r for r in load_records(lab)}
    for f in first:
        other = "l" if f["tension"] != "low" else "h"
        for k in keys_for(f["text"], lab, other, speaker_country=recs[f["id"]].get("speaker_country")):
            s.key(k)
    assert all(disagrees(a, b) for a, b in zip(first, read(lab / "agreement" / "second.jsonl")))
    return first


def test_adjudicate_takes_first_second_and_edit(tmp_path):
    lab = small_labels(tmp_path / "labels", 8)
    first = make_disagreements(lab)
    second = read(lab / "agreement" / "second.jsonl")
    recs = {r.id: r for r in load_records(lab)}
    edit_keys = keys_for(first[2]["text"], lab, "m", "c", recs[first[2]["id"]].get("speaker_country"))
    res = runner.invoke(app, ["adjudicate", "--labels", str(lab)], input="2" + "1")
    assert res.exit_code == 0 and "quit: 2 decision(s)" in res.output, res.output
    assert "1. first:  tension " + first[0]["tension"] in res.output
    res = runner.invoke(app, ["adjudicate", "--labels", str(lab)], input="e\x1be" + edit_keys)
    assert "edit cancelled" in res.output
    assert "all disagreements adjudicated" in res.output, res.output
    log = read(lab / "agreement" / "adjudication.jsonl")
    assert [(x["id"], x["decision"]) for x in log] == [(first[0]["id"], "second"), (first[1]["id"], "first"), (first[2]["id"], "edited")]
    now = {r.id: r for r in load_records(lab)}
    assert now[first[0]["id"]]["tension"] == second[0]["tension"] and now[first[0]["id"]]["stances"] == second[0]["stances"]
    assert now[first[1]["id"]]["tension"] == first[1]["tension"]
    assert now[first[2]["id"]]["tension"] == "medium"
    assert log[2]["gold"] == {"tension": "medium", "stances": now[first[2]["id"]]["stances"]}
    assert check_store(lab)[1] == []
    # nothing left; agreement and the human row see the new files
    assert AdjudicationSession(lab).start().done
    fig = agreement(lab)
    assert fig["sample"] == 3 and fig["tension"]["observed_agreement"] == 0.0
    tension = [h for h in human_records(lab) if h["task"] == "tension"][0]
    assert tension["n_test"] == 3


def test_gold_skip_moves_the_record_to_the_skipped_pool(tmp_path):
    lab = small_labels(tmp_path / "labels", 8)
    (lab / "pool").mkdir()
    first = draw_sample(lab, 1, seed=2)
    s = second_session(lab, "B")
    s.start()
    s.key("s")
    s.key("1")
    a = AdjudicationSession(lab)
    a.start()
    screen = a.key("2")
    assert screen.done
    assert first[0]["id"] not in {r.id for r in load_records(lab)}
    skipped = read(lab / "pool" / "skipped.jsonl")
    assert skipped[0]["id"] == first[0]["id"] and skipped[0]["skip_reason"] == "off-topic"
    assert check_store(lab)[1] == []
