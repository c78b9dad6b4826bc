"""The pool: plain text becomes ordered, deduplicated pool sentences; moves keep every sentence once."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.data import pool
from bench.cli import app
from bench.data.store import LabelError, append_records, load_records

from .conftest import LABELS, read

runner = CliRunner(env={"COLUMNS": "200"})


def real_doc(labels: Path, n: int = 5) -> list[str]:
    """Consecutive real sentences of one UN speech that the small test store does not hold.

    The first such speech whose sentences pySBD splits back exactly (some UN transcripts hold stray
    full stops, "about and. carrying", which any splitter rightly splits).
    """
    from bench.data.sentences import split_sentences

    have = {r["doc"] for r in load_records(labels)}
    recs = [r for r in read(LABELS / "un-debates.jsonl") if r["doc"] not in have]
    by_doc: dict[str, list[str]] = {}
    for r in recs:
        by_doc.setdefault(r["doc"], []).append(r["text"])
    return next(t[:n] for t in by_doc.values() if len(t) >= n and split_sentences(" ".join(t[:n])) == t[:n])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.jsonl"))}


def test_plain_text_article_becomes_pool_sentences_in_order(labels: Path, tmp_path: Path) -> None:
    sents = real_doc(labels, 4)
    labelled = load_records(labels)[0]["text"]
    article = tmp_path / "speech-1.txt"
    # Two paragraphs, a line break inside a sentence, one sentence repeated, one already labelled.
    article.write_text(f"{sents[0]} {sents[1]}\n\n{sents[2].replace(' ', chr(10), 1)} {labelled} {sents[1]}\n{sents[3]}\n")
    res = runner.invoke(app, ["pool", "add", str(article), "--source", "UN General Debate Corpus", "--license", "CC0-1.0",
                              "--date", "1990", "--labels", str(labels)])
    assert res.exit_code == 0, res.output
    assert "added 4" in res.output and "dropped 2 duplicate(s) (1 in the file, 1 labelled)" in res.output
    items = pool.load_pool(labels)
    assert [i["text"] for i in items] == sents
    assert [i["sent_index"] for i in items] == [0, 1, 2, 5]
    assert {i["doc_id"] for i in items} == {"speech-1"} and all(i["id"] == pool.pool_id(i["text"]) for i in items)
    assert all(i["date"] == "1990" and i["license"] == "CC0-1.0" for i in items)
    again = runner.invoke(app, ["pool", "add", str(article), "--source", "x", "--license", "y", "--labels", str(labels)])
    assert "added 0" in again.output and "dropped 6 duplicate(s) (5 in the pool, 1 labelled)" in again.output and len(pool.load_pool(labels)) == 4


def test_plain_text_needs_source_and_license(labels: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("One sentence here. Another one.")
    res = runner.invoke(app, ["pool", "add", str(tmp_path / "a.txt"), "--labels", str(labels)])
    assert res.exit_code == 1 and "needs --source and --license" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["pool", "add", str(tmp_path / "a.txt"), "--source", "s", "--license", "l", "--date", "someday",
                              "--labels", str(labels)])
    assert res.exit_code == 1 and res.output.count("--date: 'someday' is not an ISO date") == 1
    assert not (labels / "pool" / "unlabelled.jsonl").exists()


def test_csv_rows_with_one_bad_row_change_nothing(labels: Path, tmp_path: Path) -> None:
    sents = real_doc(labels, 3)
    path = tmp_path / "rows.csv"
    path.write_text("text,doc,source,license,date\n" + "".join(f'"{s}",d1,UNGDC,CC0-1.0,1991\n' for s in sents[:2])
                    + f'"{sents[2]}",d1,UNGDC,CC0-1.0,someday\n')
    before = snapshot(labels)
    with pytest.raises(LabelError, match=rf"rows.csv:4: date: 'someday' is not an ISO date"):
        pool.add_to_pool(path, labels)
    assert snapshot(labels) == before
    path.write_text(path.read_text().replace("someday", "1991"))
    res = pool.add_to_pool(path, labels)
    assert [i["sent_index"] for i in res.added] == [0, 1, 2] and res.dropped == 0


def test_jsonl_dedupes_against_skipped_and_pool(labels: Path, tmp_path: Path) -> None:
    skipped = read(LABELS / "pool" / "skipped.jsonl")[:2]
    (labels / "pool").mkdir(exist_ok=True)
    (labels / "pool" / "skipped.jsonl").write_text("".join(json.dumps(r) + "\n" for r in skipped))
    sents = real_doc(labels, 2)
    src = tmp_path / "in.jsonl"
    rows = [{"text": skipped[0]["text"].upper(), "doc": "x", "source": "s", "license": "l"},
            *({"text": s, "doc_id": "x", "source": "s", "license": "l", "sent_index": 7 + k} for k, s in enumerate(sents))]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = pool.add_to_pool(src, labels)
    assert len(res.added) == 2 and dict(res.duplicates) == {"skipped": 1}
    assert pool.add_to_pool(src, labels).duplicates == {"skipped": 1, "in the pool": 2}


def real_records(texts: list[str]) -> list[dict]:
    """The gold records (read and labelled by a person) of these real sentences."""
    by_text = {r["text"]: r for r in read(LABELS / "un-debates.jsonl")}
    return [by_text[t] for t in texts]


def test_labelled_and_skipped_leave_the_queue_and_keep_their_context(labels: Path, tmp_path: Path) -> None:
    sents = real_doc(labels, 5)
    src = tmp_path / "doc.jsonl"
    src.write_text("".join(json.dumps({"text": s, "doc": "speech", "source": "s", "license": "l"}) + "\n" for s in sents))
    pool.add_to_pool(src, labels)
    ids = [i["id"] for i in pool.load_pool(labels)]
    before, after = pool.neighbours(ids[2], labels, before=2, after=1)
    assert [b["id"] for b in before] == ids[:2] and [a["id"] for a in after] == [ids[3]]
    append_records("user", real_records([sents[2]]), labels)  # labelled (the labeller keeps the pool file as it is)
    pool.add_skip(ids[3], "no security content", labels)
    assert [i["id"] for i in pool.load_pool(labels)] == [ids[0], ids[1], ids[4]]
    assert pool.load_pool(labels, "skipped")[0]["skip_reason"] == "no security content"
    before, after = pool.neighbours(ids[4], labels, before=2, after=1)  # context survives labelling and skipping
    assert [b["id"] for b in before] == ids[2:4] and after == []
    with pytest.raises(LabelError, match="not a pool sentence still to label"):
        pool.add_skip(ids[3], "again", labels)
    counts = runner.invoke(app, ["pool", "--labels", str(labels)])
    assert counts.exit_code == 0 and "3 unlabelled, 1 skipped, 1 labelled from the pool" in counts.output
