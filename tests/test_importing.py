"""Bulk import: a CSV of real labelled sentences goes in at once; any bad row or duplicate changes nothing."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from bench.cli import app
from bench.data.importing import PairError, format_pairs, import_records, parse_pairs
from bench.data.store import LabelError, load_records

from .conftest import LABELS, read

runner = CliRunner(env={"COLUMNS": "200"})
COLUMNS = ["text", "tension", "stances", "mentions", "doc", "source", "license", "date", "speaker", "speaker_country", "title", "url"]


def outside(labels: Path, n: int) -> list[dict]:
    """Real labelled records of the full store that the small test copy does not hold (new to it)."""
    have = {r.id for r in load_records(labels)}
    recs = [r for r in read(LABELS / "kremlin.jsonl") if r["id"] not in have]
    return recs[:n]


def to_csv(path: Path, recs: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for r in recs:
            w.writerow([r["text"], r["tension"], format_pairs([(s["actor"], s["stance"]) for s in r["stances"]]),
                        format_pairs([(s["actor"], s["mention"]) for s in r["stances"] if "mention" in s]),
                        r["doc"], r["source"], r["license"], *(r.get(k, "") for k in COLUMNS[7:])])
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.jsonl"))}


def test_csv_imports_in_one_go_with_derived_ids(labels: Path, tmp_path: Path) -> None:
    recs = outside(labels, 12)
    before = len(load_records(labels))
    res = runner.invoke(app, ["import", str(to_csv(tmp_path / "new.csv", recs)), "--dataset", "mine", "--labels", str(labels)])
    assert res.exit_code == 0, res.output
    added = read(labels / "mine.jsonl")
    assert len(load_records(labels)) == before + 12 and len(added) == 12
    for r, a in zip(recs, added):
        assert a["id"].startswith("mine-") and a["text"] == r["text"] and a["tension"] == r["tension"]
        assert a["stances"] == r["stances"] and a["doc"] == r["doc"] and a.get("date") == r.get("date")


def test_jsonl_keeps_given_ids_and_dry_run_writes_nothing(labels: Path, tmp_path: Path) -> None:
    recs = outside(labels, 3)
    src = tmp_path / "new.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs))
    before = snapshot(labels)
    res = runner.invoke(app, ["import", str(src), "--dataset", "mine", "--dry-run", "--labels", str(labels)])
    assert res.exit_code == 0 and "would add 3" in res.output and "nothing written" in res.output
    assert snapshot(labels) == before
    import_records(src, "mine", labels)
    assert [r["id"] for r in read(labels / "mine.jsonl")] == [r["id"] for r in recs]


def test_one_bad_row_changes_nothing_and_is_named(labels: Path, tmp_path: Path) -> None:
    recs = outside(labels, 6)
    recs[3] = {**recs[3], "tension": "extreme"}
    path = to_csv(tmp_path / "bad.csv", recs)
    before = snapshot(labels)
    res = runner.invoke(app, ["import", str(path), "--dataset", "mine", "--labels", str(labels)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"{path}:5: tension: 'extreme' is not one of" in res.output  # header is line 1, row 4 is line 5
    assert snapshot(labels) == before


@pytest.mark.parametrize("cells, field", [
    ({"stances": "RUS"}, "stances"), ({"stances": "NOPE=cautious", "mentions": ""}, "stances[0].actor"),
    ({"mentions": "USA=Washington"}, "mentions"), ({"date": "June"}, "date"), ({"doc": ""}, "doc"),
])
def test_bad_cells_name_line_and_field(labels: Path, tmp_path: Path, cells: dict, field: str) -> None:
    path = tmp_path / "one.csv"
    row = {"text": "Russia warned NATO about the new bases.", "tension": "high", "stances": "RUS=deterrence-seeking",
           "mentions": "RUS=Russia", "doc": "d1", "source": "test", "license": "CC0-1.0", **cells}
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, list(row))
        w.writeheader()
        w.writerow(row)
    with pytest.raises(LabelError) as err:
        import_records(path, "mine", labels)
    assert f"{path}:2: {field}:" in str(err.value)
    assert not (labels / "mine.jsonl").exists()


def test_duplicates_against_store_and_within_file_name_both_places(labels: Path, tmp_path: Path) -> None:
    old = load_records(labels)[5]
    new = outside(labels, 2)
    shouty = {**new[1], "text": "  " + new[1]["text"].upper() + " ", "stances": []}
    again = {**old.data, "text": old["text"].replace(" ", "  "), "stances": []}
    path = to_csv(tmp_path / "dup.csv", [new[0], new[1], shouty, again])
    before = snapshot(labels)
    res = runner.invoke(app, ["import", str(path), "--dataset", "mine", "--labels", str(labels)])
    assert res.exit_code == 1
    assert f"{path}:4: text: the same sentence is already at {path}:3" in res.output
    assert f"{path}:5: text: the same sentence is already labelled at {old.dataset}.jsonl:{old.line} ({old.id})" in res.output
    assert snapshot(labels) == before


def test_existing_id_is_refused(labels: Path, tmp_path: Path) -> None:
    old = load_records(labels)[0]
    rec = {**outside(labels, 1)[0], "id": old.id}
    src = tmp_path / "x.jsonl"
    src.write_text(json.dumps(rec) + "\n")
    with pytest.raises(LabelError, match=rf"x.jsonl:1: id: '{old.id}' is already used at {old.dataset}.jsonl:{old.line}"):
        import_records(src, "mine", labels)


def test_unknown_column_and_plain_text_refused(labels: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("text,tension,doc,source,license,colour\nA.,low,d,s,l,red\n")
    with pytest.raises(LabelError, match=r"c.csv:1: colour: is not a known column"):
        import_records(path, "mine", labels)
    (tmp_path / "a.txt").write_text("Some text.")
    with pytest.raises(LabelError, match="pool add"):
        import_records(tmp_path / "a.txt", "mine", labels)


KEY = st.text(st.characters(blacklist_characters=";=", blacklist_categories=("Cs",)), min_size=1).filter(lambda s: s.strip() == s and s)
VALUE = st.text(st.characters(blacklist_characters=";", blacklist_categories=("Cs",)), min_size=1).filter(lambda s: s.strip() == s and s)


@given(st.dictionaries(KEY, VALUE, max_size=6))
def test_pairs_round_trip(pairs: dict[str, str]) -> None:
    assert parse_pairs(format_pairs(list(pairs.items()))) == list(pairs.items())


@given(st.text(max_size=40))
def test_pairs_parser_returns_pairs_or_a_clear_error(cell: str) -> None:
    try:
        out = parse_pairs(cell)
    except PairError as exc:
        assert str(exc)
        return
    assert len({k for k, _ in out}) == len(out)
    assert all(k and v and k == k.strip() and v == v.strip() and ";" not in k + v and "=" not in k for k, v in out)


def test_pairs_parser_examples() -> None:
    assert parse_pairs(" RUS = cautious ; USA=pro-cooperation;") == [("RUS", "cautious"), ("USA", "pro-cooperation")]
    assert parse_pairs("NATO=a=b") == [("NATO", "a=b")]
    assert parse_pairs("") == []
    for bad in ("RUS", "RUS=", "=x", "RUS=a;RUS=b"):
        with pytest.raises(PairError):
            parse_pairs(bad)
