"""The name lookup: word boundaries, case rules, the speaker, and the registry audit."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, strategies as st

from bench.data.gazetteer import Gazetteer, _key, audit, detect, gazetteer, speaks_for_self
from bench.data.features import find_mention, frame
from bench.data.schema import Actor, load_actors

REPO = Path(__file__).resolve().parent.parent
ACTORS = load_actors(REPO / "labels" / "actors.toml")


def test_matches_on_word_boundaries_only() -> None:
    g = gazetteer(ACTORS)
    assert "UN" not in g.candidates("UNITA fighters crossed the border.")
    assert "EU" not in g.candidates("THE EUROPEAN COUNCIL MET.")
    assert g.candidates("The UN and the EU objected.") == {"UN": "UN", "EU": "EU"}


def test_acronyms_are_case_sensitive_other_names_fold_the_first_letter() -> None:
    g = gazetteer(ACTORS)
    assert "USA" not in g.candidates("Let us hope that the talks succeed.")
    assert g.candidates("The US objected.")["USA"] == "US"
    assert g.candidates("the Alliance will meet.")["NATO"] == "the Alliance"
    assert g.candidates("The Alliance will meet.")["NATO"] == "The Alliance"


def test_leftmost_longest_name_wins() -> None:
    g = gazetteer(ACTORS)
    assert g.candidates("The Soviet Union and the NATO Powers disagreed.") == {"SUN": "Soviet Union", "NATO-ALLIES": "NATO Powers"}
    assert g.candidates("Russia warned the Russian Federation's neighbours.")["RUS"] == "Russia"


def test_registry_knows_russia() -> None:
    assert find_mention("Russia objected to the enlargement.", "RUS", ACTORS) == "Russia"
    assert find_mention("Moscow objected.", "RUS", ACTORS) == "Moscow"
    assert find_mention("We object.", "RUS", ACTORS) is None


def test_speaker_detection_and_explicit_speaker_inputs() -> None:
    assert speaks_for_self("My delegation cannot accept this.")
    assert not speaks_for_self("The Alliance will meet in Brussels.")
    assert detect("We reject the NATO plan.", ACTORS, "BLR") == {"NATO": "NATO", "BLR": None}
    assert detect("NATO met in Brussels.", ACTORS, "BLR") == {"NATO": "NATO", "EU": "Brussels"}
    X = frame([{"text": "Russia and we agree.", "actor": "RUS", "mention": None},
               {"text": "Russia and we agree.", "actor": "RUS", "speaker_is_actor": True},
               {"text": "Russia and we agree.", "actor": "RUS"}], "stance", ACTORS)
    assert list(X["speaker"]) == ["speaker", "speaker", "named"]


@given(st.text(max_size=60))
def test_every_match_is_a_whole_word_substring(text: str) -> None:
    g = gazetteer(ACTORS)
    for m in g.find(text):
        assert text[m.start:m.end] == m.mention
        assert m.start == 0 or not text[m.start - 1].isalnum() and text[m.start - 1] != "_"
        assert m.end == len(text) or not (text[m.end].isalnum() or text[m.end] == "_")


def test_audit_counts_named_and_pronoun_misses() -> None:
    actors = {"RUS": Actor("RUS", "Russian Federation", "state", "russia", ("Russia",)),
              "NATO": Actor("NATO", "North Atlantic Treaty Organization", "organisation", "west", ())}
    recs = [{"id": "a", "text": "Russia and NATO disagree; we object.", "stances": [
        {"actor": "RUS", "stance": "cautious", "mention": "Russia"},
        {"actor": "NATO", "stance": "cautious", "mention": "NATO"},
        {"actor": "RUS", "stance": "cautious", "mention": "we"}]}]
    a = audit(recs, actors)
    assert (a.mentions, a.pronouns, a.missed_pronouns) == (3, 1, 1)
    assert a.missed_names == [("a", "NATO", "NATO")]
    assert a.name_miss_rate == 0.5 and abs(a.miss_rate - 2 / 3) < 1e-9
    assert Gazetteer({}).find("anything") == []


def test_real_registry_finds_most_named_gold_mentions() -> None:
    recs = [json.loads(line) for p in sorted((REPO / "labels").glob("*.jsonl")) for line in p.open(encoding="utf-8")]
    a = audit(recs, ACTORS)
    assert a.mentions > 3000 and a.name_miss_rate < 0.10


def _flat_regex(g: Gazetteer):
    """The pattern the gazetteer used before #10: one flat alternation of every key, longest first."""
    import re

    from bench.data.gazetteer import _pattern

    alts = sorted(g._by_key, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(_pattern(k) for k in alts) + r")(?!\w)")


_NAMES = sorted({n for a in ACTORS.values() for n in (a.name, *a.aliases) if n.strip()})
_GLUE = st.sampled_from([" ", "", "-", "s ", ", ", "'s ", "_", "\n", "x", " the ", "é"])


@given(st.lists(st.one_of(st.sampled_from(_NAMES), st.sampled_from(_NAMES).map(str.lower),
                          st.sampled_from(_NAMES).map(str.upper), _GLUE, st.text(max_size=4)), max_size=12))
def test_prefix_tree_pattern_finds_what_the_flat_alternation_found(parts: list[str]) -> None:
    text = "".join(parts)
    g = gazetteer(ACTORS)
    old = [(m.group(), m.start(), m.end()) for m in _flat_regex(g).finditer(text)]
    assert [(m.group(), m.start(), m.end()) for m in g._regex.finditer(text)] == old
    for actor in {m.actor for m in g.find(text)} | {"RUS", "USA"}:
        want = next((m for m, _, _ in old if actor in g._by_key.get(_key(m), ())), None)
        assert g.mention_of(text, actor) == want


def test_prefix_tree_pattern_on_real_sentences() -> None:
    from .conftest import LABELS

    g = gazetteer(ACTORS)
    flat = _flat_regex(g)
    texts = [json.loads(line)["text"] for p in sorted(LABELS.glob("*.jsonl")) for line in p.read_text().splitlines()[:150]]
    assert len(texts) > 300
    found = 0
    for text in texts:
        old = [(m.group(), m.start(), m.end()) for m in flat.finditer(text)]
        assert [(m.group(), m.start(), m.end()) for m in g._regex.finditer(text)] == old
        found += bool(old)
    assert found > 100
