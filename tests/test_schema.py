from __future__ import annotations

import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.data.schema import (MAX_FIELD_CHARS, MAX_TEXT_CHARS, STANCES, TENSIONS, check_record, dataset_name_problem, load_actors,
                          suggest_actors, valid_date)

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


def problem_of(change: dict, field: str) -> str:
    """The message for `field` when `change` is applied to a good record ('' if there is none)."""
    return dict(check_record({**good(), **change}, ACTORS)).get(field, "")


@pytest.mark.parametrize("bad", ["a::b", "ungdc-1::RUS", "a b", "a/b", "-x", ".hidden", "x:", "é-1", "a" * 129, "a\n"])
def test_ids_outside_the_alphabet_are_refused(bad: str) -> None:
    assert "is not a valid id" in problem_of({"id": bad}, "id")


@pytest.mark.parametrize("ok", ["t-1", "ungdc-9cea50d971b7", "A.b_c-9", "a" * 128])
def test_ids_in_the_alphabet_are_accepted(ok: str) -> None:
    assert check_record({**good(), "id": ok}, ACTORS) == []


@given(st.text(max_size=20))
def test_accepted_ids_never_break_the_export_join(s: str) -> None:
    if not problem_of({"id": s}, "id") and s.strip():
        assert "::" not in s and ":" not in s and s.isascii() and not any(c.isspace() for c in s)


@pytest.mark.parametrize("bad", ["evil\n", "evil\n\n", "-x", "--help", "con", "aux", "nul", "prn", "com1", "lpt9",
                                 "Bad", "a_b", "", "a" * 65, "x.y", "a/b"])
def test_bad_dataset_names_are_refused(bad: str) -> None:
    msg = dataset_name_problem(bad)
    assert msg and "\n" not in msg
    if bad in ("con", "aux", "nul", "prn", "com1", "lpt9"):
        assert "reserved" in msg


@pytest.mark.parametrize("ok", ["user", "seed-news", "con-news", "com10", "a", "2024", "a" * 64])
def test_good_dataset_names_are_accepted(ok: str) -> None:
    assert dataset_name_problem(ok) is None


@pytest.mark.parametrize("field", ["text", "doc", "source", "license", "speaker", "title", "note", "id"])
@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "\x00", "\x1b[31m", "\x7f", "\x85"])
def test_surrogates_and_control_characters_are_refused(field: str, bad: str) -> None:
    rec = {**good(), field: f"Moscow warned NATO {bad} against it."}
    problems = check_record(rec, ACTORS)
    assert any(f == field for f, _ in problems), problems
    assert all("\n" not in m and m.isprintable() for _, m in problems)


def test_surrogates_are_refused_in_mentions_and_actor_ids() -> None:
    assert "surrogate" in problem_of({"text": "Moscow\ud800 warned.", "stances": [{"actor": "RUS", "stance": "cautious",
                                                                              "mention": "Moscow\ud800"}]}, "stances[0].mention")
    assert problem_of({"stances": [{"actor": "RUS\ud800", "stance": "cautious"}]}, "stances[0].actor").isprintable()
    assert all(m.isprintable() and f.isprintable() for f, m in check_record({**good(), "\ud800\n": "x"}, ACTORS))


def test_normal_white_space_is_allowed() -> None:
    assert check_record({**good(), "text": "Moscow warned\tNATO\r\nagainst it."}, ACTORS) == []


def test_sentence_and_field_lengths_are_limited() -> None:
    longest = max(len(json.loads(line)["text"]) for p in LABELS.glob("*.jsonl") for line in p.open() if line.strip())
    assert longest < MAX_TEXT_CHARS // 5  # the limit leaves room for far longer real sentences
    text = "Moscow warned NATO. " + "x" * (MAX_TEXT_CHARS - 20)
    assert check_record({**good(), "text": text}, ACTORS) == []
    assert "the limit is 5,000" in problem_of({"text": text + "x"}, "text")
    assert check_record({**good(), "source": "s" * MAX_FIELD_CHARS}, ACTORS) == []
    assert "limit" in problem_of({"source": "s" * (MAX_FIELD_CHARS + 1)}, "source")


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "file:///etc/passwd",
                                 "ftp://example.org/x", "//example.org/x", "example.org", "https://", "http://[::1",
                                 "https://exa mple.org/"])
def test_url_must_be_http_or_https(bad: str) -> None:
    assert "url" in fields(check_record({**good(), "url": bad}, ACTORS))


@pytest.mark.parametrize("ok", ["https://en.kremlin.ru/events/president/news/1", "http://example.org", "HTTPS://EXAMPLE.ORG/a?b=c#d"])
def test_http_urls_are_accepted(ok: str) -> None:
    assert check_record({**good(), "url": ok}, ACTORS) == []


@given(st.sampled_from(["pool", "random", "uncertain", "uncertain:0.0412", "uncertain:1"]),
       st.from_regex(r"[A-Za-z][A-Za-z .'-]{0,30}", fullmatch=True))
def test_selected_by_and_annotator(selected: str, annotator: str) -> None:
    assert check_record({**good(), "selected_by": selected, "annotator": annotator}, ACTORS) == []
    assert fields(check_record({**good(), "annotator": "  "}, ACTORS)) == {"annotator"}
    for bad in ("model", "uncertain:", "uncertain:low", "pool ", "pool\n"):
        assert fields(check_record({**good(), "selected_by": bad}, ACTORS)) == {"selected_by"}


def test_a_final_newline_does_not_pass_the_patterns() -> None:
    """`$` matches before a final newline: every pattern is used with fullmatch."""
    assert not valid_date("1999\n") and not valid_date("1999-02-28\n")
    assert "date" in fields(check_record({**good(), "date": "2007\n"}, ACTORS))
    assert "selected_by" in fields(check_record({**good(), "selected_by": "pool\n"}, ACTORS))
