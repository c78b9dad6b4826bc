from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.scoring.cards import FIELDS, CardError, card_problems, load_card, split_conflict, summary

GOOD = {"name": "MiniLM fine-tuned", "reference": "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
        "description": "all-MiniLM-L6-v2 fine-tuned end to end", "parameters": 22_700_000, "trained_on": "document",
        "revision": "v1", "license": "Apache-2.0"}


def test_toml_and_json_cards_load(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps(GOOD))
    (tmp_path / "c.toml").write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in GOOD.items()))
    assert load_card(tmp_path / "c.json") == GOOD == load_card(tmp_path / "c.toml")
    assert "trained on the document split's train side" in summary(GOOD) and "22,700,000 parameters" in summary(GOOD)


@pytest.mark.parametrize("change, message", [
    ({"modelname": "x"}, "modelname: unknown key"),
    ({"reference": "ftp://x.org/m"}, "reference: 'ftp://x.org/m' is not an http(s) URL"),
    ({"reference": "javascript:alert(1)"}, "is not an http(s) URL"),
    ({"parameters": True}, "parameters: must be a positive integer"),
    ({"parameters": "22M"}, "parameters: must be a positive integer"),
    ({"trained_on": "train"}, "trained_on: 'train' is not one of document, temporal, cross-source, 'other: WHAT', 'none'"),
    ({"trained_on": "other:  "}, "trained_on:"),
    ({"name": ""}, "name: must be a non-empty string"),
    ({"license": "MIT\nrm -rf"}, "license: must be a single line"),
])
def test_bad_cards_are_refused_with_the_field(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "card.json"
    path.write_text(json.dumps({**GOOD, **change}))
    with pytest.raises(CardError) as err:
        load_card(path)
    assert any(p.startswith(f"{path}: ") and message in p for p in err.value.problems), err.value.problems


def test_unreadable_cards(tmp_path: Path) -> None:
    for name, content, message in (("c.toml", b"name = ", "card: invalid TOML"), ("c.json", b"\xff", "card: not valid UTF-8"),
                                   ("c.yaml", b"name: x", "must end in .toml or .json"), ("c.json", b"[1]", "card: must be")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CardError, match=message):
            load_card(tmp_path / name)
    with pytest.raises(CardError, match="required"):
        (tmp_path / "c.json").write_text(json.dumps({"description": "no name"}))
        load_card(tmp_path / "c.json")


def test_training_split_must_match_the_scored_split() -> None:
    assert split_conflict(GOOD, "document") is None
    assert split_conflict({**GOOD, "trained_on": "none"}, "temporal") is None
    assert "overlaps the temporal split's test side" in split_conflict(GOOD, "temporal")


values = st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.sampled_from(
    ["none", "document", "other: a web corpus", "https://example.org/x", "http://", "other:"])


@given(st.dictionaries(st.sampled_from([*FIELDS, "extra"]), values))
def test_card_validator_never_crashes_and_matches_the_rules(card: dict) -> None:
    problems = card_problems(card)
    fields = {p.split(":")[0] for p in problems}
    assert ("extra" in fields) == ("extra" in card)
    for k in ("name", "trained_on"):
        if k not in card:
            assert f"{k}: required" in problems
    t = card.get("trained_on")
    ok_t = t in ("none", "document", "temporal", "cross-source") or (isinstance(t, str) and t.startswith("other:") and t[6:].strip() != "")
    assert ("trained_on" in fields) == ("trained_on" in card and not ok_t) or "trained_on" not in card
    p = card.get("parameters")
    assert ("parameters" in fields) == ("parameters" in card and not (type(p) is int and p > 0))
    if not problems:
        assert summary(card)


def test_the_card_line_does_not_repeat_the_row_name_without_a_description() -> None:
    from bench.scoring import leaderboard as lb

    bare = {"name": "x-1", "trained_on": "none"}
    assert summary(bare, "x-1") == "zero-shot (no training on stance-bench data)"
    assert summary(bare, "other") == summary(bare) == "x-1; zero-shot (no training on stance-bench data)"
    assert summary({**bare, "description": "a tagger"}, "x-1") == "x-1; a tagger; zero-shot (no training on stance-bench data)"
    rec = {"model": "x-1", "card": bare, "predictions_sha256": "ab" * 32}
    assert lb.card_line(rec) == "zero-shot (no training on stance-bench data); predictions sha256 abababababab"
    assert lb.card_line({**rec, "card": {"name": "x-1", "description": " "}}) == "no model card; predictions sha256 abababababab"
