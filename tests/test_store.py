from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.store import LabelError, append_records, check_store, fingerprint, load_records


def new_record(**kw) -> dict:
    rec = {"id": "new-1", "text": "NATO and Russia agreed to resume the council's meetings.", "doc": "new-doc",
           "tension": "low", "stances": [{"actor": "NATO", "stance": "pro-cooperation", "mention": "NATO"}],
           "source": "test", "license": "CC0-1.0"}
    rec.update(kw)
    return rec


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.jsonl"))}


def test_real_labels_validate(labels: Path) -> None:
    records, problems = check_store(labels)
    assert problems == [] and len(records) > 30


def test_append_valid_record(labels: Path) -> None:
    before = len(load_records(labels))
    fp = fingerprint(labels)
    append_records("user", [new_record()], labels)
    assert len(load_records(labels)) == before + 1
    assert fingerprint(labels) != fp


@pytest.mark.parametrize("change, field", [
    ({"tension": "extreme"}, "tension"),
    ({"stances": [{"actor": "NATOO", "stance": "cautious"}]}, "stances[0].actor"),
    ({"stances": [{"actor": "NATO", "stance": "cautious", "mention": "Alliance"}]}, "stances[0].mention"),
    ({"date": "last year"}, "date"),
    ({"source": 3}, "source"),
])
def test_rejected_write_reports_file_line_field_and_changes_nothing(labels: Path, change: dict, field: str) -> None:
    before = snapshot(labels)
    with pytest.raises(LabelError) as err:
        append_records("seed-news", [new_record(**change)], labels)
    n_lines = len((labels / "seed-news.jsonl").read_text().splitlines())
    assert f"seed-news.jsonl:{n_lines + 1}: {field}:" in str(err.value)
    assert snapshot(labels) == before


def test_duplicate_id_and_duplicate_sentence_are_rejected(labels: Path) -> None:
    existing = load_records(labels)[0]
    before = snapshot(labels)
    with pytest.raises(LabelError, match="id: .* already used"):
        append_records("user", [new_record(id=existing.id)], labels)
    shouty = "  " + existing["text"].upper().replace(" ", "   ") + " "
    with pytest.raises(LabelError, match="same sentence is already labelled"):
        append_records("user", [new_record(text=shouty, stances=[])], labels)
    assert snapshot(labels) == before


def test_invalid_json_line_is_reported_with_its_line(labels: Path) -> None:
    path = labels / "broken.jsonl"
    path.write_text(json.dumps(new_record()) + "\n{not json\n")
    _, problems = check_store(labels)
    assert any(p.startswith(f"{path}:2: record: invalid JSON") for p in problems)
    with pytest.raises(LabelError):
        load_records(labels)


def test_bad_dataset_name_is_refused(labels: Path) -> None:
    with pytest.raises(LabelError, match="dataset"):
        append_records("Bad Name", [new_record()], labels)
