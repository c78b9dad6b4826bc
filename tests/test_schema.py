from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from bench.schema import STANCES, TENSIONS, check_record, load_actors, suggest_actors, valid_date

from .conftest import LABELS

ACTORS = load_actors(LABELS / "actors.toml")


def good() -> dict:
    return {"id": "t-1", "text": "Moscow warned NATO against enlargement.", "doc": "d1", "tension": "medium",
            "stances": [{"actor": "RUS", "stance": "cautious", "mention": "Moscow"}],
            "source": "test", "date": "2007-02-10", "license": "CC0-1.0"}


def fields(problems: list[tuple[str, str]]) -> set[str]:
    return {f for f, _ in problems}


def test_valid_record_has_no_problems() -> None:
    assert check_record(good(), ACTORS) == []


def test_each_kind_of_bad_record_names_its_field() -> None:
    cases = {
        "tension": {"tension": "severe"},
        "stances[0].stance": {"stances": [{"actor": "RUS", "stance": "angry"}]},
        "stances[0].actor": {"stances": [{"actor": "RUSSIA", "stance": "cautious"}]},
        "stances[0].mention": {"stances": [{"actor": "RUS", "stance": "cautious", "mention": "Kremlin"}]},
        "date": {"date": "2007-13-01"},
        "license": {"license": ""},
        "colour": {"colour": "red"},
        "stances[1].actor": {"stances": [{"actor": "RUS", "stance": "cautious"}, {"actor": "RUS", "stance": "cautious"}]},
    }
    for field, change in cases.items():
        rec = {**good(), **change}
        assert field in fields(check_record(rec, ACTORS)), field
    missing = good()
    del missing["doc"]
    assert fields(check_record(missing, ACTORS)) == {"doc"}


def test_unknown_actor_message_suggests_close_ids() -> None:
    msg = dict(check_record({**good(), "stances": [{"actor": "Russia", "stance": "cautious"}]}, ACTORS))["stances[0].actor"]
    assert "RUS" in msg
    assert suggest_actors("Estonia", ACTORS)[0] == "EST"
    assert "BALTIC-STATES" in suggest_actors("baltic states", ACTORS)


def test_registry_has_the_documented_ids() -> None:
    for a in ("RUS", "SUN", "USA", "NATO", "EU", "UN", "OSCE", "CSTO", "WARSAW-PACT", "CSK", "YUG", "DDR",
              "BALTIC-STATES", "NATO-NEW-MEMBERS", "NATO-ALLIES", "WESTERN-EUROPE"):
        assert a in ACTORS
    assert {a.kind for a in ACTORS.values()} == {"state", "organisation", "group"}


@given(st.dictionaries(st.sampled_from(["id", "text", "doc", "tension", "stances", "source", "license", "date", "x"]),
                       st.one_of(st.text(max_size=8), st.integers(), st.none(), st.lists(st.dictionaries(st.text(max_size=6), st.text(max_size=6)), max_size=2))))
def test_validator_never_crashes_and_rejects_junk(obj: dict) -> None:
    problems = check_record(obj, ACTORS)
    assert isinstance(problems, list)
    if not {"id", "text", "doc", "tension", "stances", "source", "license"} <= set(obj):
        assert problems


@given(st.sampled_from(TENSIONS), st.lists(st.tuples(st.sampled_from(["RUS", "USA", "NATO", "EST"]), st.sampled_from(STANCES)),
                                            unique_by=lambda t: t[0], max_size=4),
       st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=40).filter(str.strip))
def test_any_well_formed_record_is_valid(tension: str, stances: list, text: str) -> None:
    rec = {**good(), "text": text, "tension": tension, "stances": [{"actor": a, "stance": s} for a, s in stances]}
    assert check_record(rec, ACTORS) == []


@given(st.text(max_size=12))
def test_date_parser_accepts_only_iso_forms(s: str) -> None:
    ok = valid_date(s)
    if ok:
        assert len(s) in (4, 7, 10) and s[:4].isdigit()
    assert valid_date("1999") and valid_date("1999-02") and valid_date("1999-02-28")
    assert not valid_date("1999-02-30") and not valid_date("99") and not valid_date("1999/02/01")
