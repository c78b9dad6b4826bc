"""The labeller driven by scripted keys: label, skip, undo, quit, resume, crash, add/remove actors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.annotation import labeller
from bench.cli import app
from bench.annotation.labeller import LabelSession, DatasetSink, dataset_session, suggest_actors_in, fuzzy_actors
from bench.data.schema import load_actors
from bench.data.store import check_store

from .conftest import pool_labels, read

runner = CliRunner()


def n_candidates(item: dict, lab: Path) -> int:
    return len(suggest_actors_in(item["text"], load_actors(lab / "actors.toml"), item.get("speaker_country")))


def answer(item: dict, lab: Path, tension: str = "m") -> str:
    """Keys that label an item: the tension, `p` for the first suggested actor, `n` for the others, Enter."""
    k = n_candidates(item, lab)
    return tension + ("p" + "n" * (k - 1) if k else "") + "\r"


def label(lab: Path, keys: str, *extra: str):
    return runner.invoke(app, ["label", "--labels", str(lab), "--annotator", "ann", *extra], input=keys)


@pytest.fixture()
def pool(tmp_path: Path) -> tuple[Path, list[dict]]:
    return pool_labels(tmp_path / "labels", "kremlin")


def test_ten_items_with_undo_and_skip_interrupted_and_resumed(pool):
    lab, items = pool
    it = items
    # session 1: label 1-3, skip 4, label 5 (low), undo it, label 5 again (high), label 6, start 7, input ends
    keys = "".join(answer(x, lab) for x in it[:3]) + "s1" + answer(it[4], lab, "l") + "u" + answer(it[4], lab, "h") \
        + answer(it[5], lab) + "m"
    res = label(lab, keys)
    assert res.exit_code == 0, res.output
    assert "undone: " + it[4]["id"] in res.output and "quit: 6 answer(s) saved" in res.output
    assert [r["id"] for r in read(lab / "user.jsonl")] == [x["id"] for x in (it[0], it[1], it[2], it[4], it[5])]
    # session 2 resumes at item 7
    res = label(lab, "".join(answer(x, lab) for x in it[6:10]) + "q")
    assert res.exit_code == 0, res.output
    assert f"{it[6]['id']} · picked by pool order" in res.output.split("\n")[0] + res.output
    recs = read(lab / "user.jsonl")
    assert [r["id"] for r in recs] == [x["id"] for x in it[:10] if x is not it[3]]
    assert {r["id"]: r["tension"] for r in recs}[it[4]["id"]] == "high"
    skipped = read(lab / "pool" / "skipped.jsonl")
    assert [(s["id"], s["skip_reason"]) for s in skipped] == [(it[3]["id"], labeller.SKIP_REASONS["1"])]
    records, problems = check_store(lab)
    assert problems == [] and len([r for r in records if r.dataset == "user"]) == 9
    for r, x in zip(recs, [x for x in it[:10] if x is not it[3]]):
        assert r["doc"] == x["doc_id"] and r["source"] == x["source"] and r["license"] == x["license"]
        assert r.get("url") == x.get("url") and r.get("speaker") == x.get("speaker") and r["date"] == x["date"]
        assert r["selected_by"] == "pool" and r["annotator"] == "ann"
    # nothing on the pool file changed
    assert read(lab / "pool" / "unlabelled.jsonl") == items


def test_crash_mid_session_loses_only_the_item_on_screen(pool, monkeypatch):
    lab, items = pool
    real, calls = labeller.append_records, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(labeller, "append_records", flaky)
    res = label(lab, "".join(answer(x, lab) for x in items[:6]))
    assert isinstance(res.exception, RuntimeError)
    recs = read(lab / "user.jsonl")
    assert [r["id"] for r in recs] == [x["id"] for x in items[:3]]
    assert check_store(lab)[1] == []
    monkeypatch.setattr(labeller, "append_records", real)
    s = dataset_session(lab)
    assert s.start().text == items[3]["text"]


def test_undo_restores_the_file_bytes_and_the_item(pool):
    lab, items = pool
    s = dataset_session(lab, dataset="un-debates")
    before = (lab / "un-debates.jsonl").read_bytes()
    s.start()
    for k in answer(items[0], lab):
        screen = s.key(k)
    assert screen.message == f"saved {items[0]['id']}" and (lab / "un-debates.jsonl").read_bytes() != before
    screen = s.key("u")
    assert (lab / "un-debates.jsonl").read_bytes() == before
    assert screen.text == items[0]["text"] and screen.answer == ["tension: ?"]
    assert s.key("u").message == "nothing to undo in this session"


def test_add_and_remove_actor_with_fuzzy_search(pool):
    lab, items = pool
    s = dataset_session(lab)
    s.start()
    k = n_candidates(items[0], lab)
    for key in "h" + "n" * k:
        s.key(key)
    for key in "aEstoni":  # typed text: letters are not commands here
        s.key(key)
    screen = s.key("\r")
    assert "1. EST (Estonia)" in screen.options
    s.key("1")
    screen = s.key("0")  # the unnamed speaker: no mention
    screen = s.key("d")
    assert screen.answer[-1] == "1. EST (Estonia) as the speaker (unnamed): deterrence-seeking"
    for key in "aFrance\r1":
        screen = s.key(key)
    s.key("1")  # 'France' is named in the first sentence
    screen = s.key("c")
    assert screen.answer[-1] == "2. FRA (France) as 'France': cautious"
    s.key("r")
    screen = s.key("1")
    assert screen.message == "removed EST"
    s.key("\r")
    rec = read(lab / "user.jsonl")[0]
    assert rec["tension"] == "high" and rec["stances"] == [{"actor": "FRA", "stance": "cautious", "mention": "France"}]


def test_fuzzy_actor_search_finds_misspellings():
    from .conftest import LABELS

    actors = load_actors(LABELS / "actors.toml")
    assert fuzzy_actors("Estonai", actors)[0] == "EST"
    assert fuzzy_actors("north atlantic", actors)[0] == "NATO"
    assert fuzzy_actors("   ", actors) == []


def test_suggestions_come_from_the_gazetteer_speaker_first():
    from .conftest import LABELS

    actors = load_actors(LABELS / "actors.toml")
    text = "We and Poland agree that NATO must answer Moscow, whatever UNITA says."
    got = suggest_actors_in(text, actors, "FRA")
    assert got[0] == ("FRA", None)
    named = [a for a, _ in got[1:]]
    assert named[:3] == ["POL", "NATO", "RUS"] and "UN" not in named  # text order, word boundaries
    assert all(m in text for _, m in got[1:])
    assert ("FRA", None) not in suggest_actors_in("Poland agrees.", actors, "FRA")  # no first person, no speaker


def test_help_typed_skip_reason_and_rate(pool):
    lab, items = pool
    t = [0.0]
    s = dataset_session(lab, clock=lambda: t[0])
    screen = s.start()
    assert items[0]["doc_id"] == items[1]["doc_id"]
    assert screen.before is None and screen.after == items[1]["text"]
    assert "u          undo the last saved answer" in s.key("?").message
    for k in "sq? u\r":  # q, ?, u are letters of the reason while typing
        screen = s.key(k)
    assert read(lab / "pool" / "skipped.jsonl")[0]["skip_reason"] == "q? u"
    assert screen.before == items[0]["text"]  # the skipped sentence still gives context
    t[0] = 1800.0
    for k in answer(items[1], lab):
        screen = s.key(k)
    assert screen.header.startswith(f"2 done this session · {len(items) - 2} remaining · 4/h")


def test_an_invalid_pool_item_is_not_saved_and_stays_on_screen(pool):
    lab, items = pool
    bad = [{**items[0], "license": ""}, *items[1:]]
    s = LabelSession(bad, DatasetSink("user", lab), load_actors(lab / "actors.toml"))
    s.start()
    for k in answer(items[0], lab):
        screen = s.key(k)
    assert screen.message.startswith("not saved:") and "license" in screen.message
    assert screen.text == items[0]["text"] and not (lab / "user.jsonl").exists()


def test_text_from_the_data_is_printed_literally(pool):
    lab, items = pool
    markup = {**items[0], "id": "x-1", "text": "The [bold red]Alliance[/] met [link=x]NATO[/link] allies :smile:.", "title": "[i]t[/i]"}
    (lab / "pool" / "unlabelled.jsonl").write_text(json.dumps(markup) + "\n")
    res = label(lab, "q")
    assert "The [bold red]Alliance[/] met [link=x]NATO[/link] allies :smile:." in res.output and "[i]t[/i]" in res.output


def test_empty_or_finished_pool_says_so(pool):
    lab, items = pool
    (lab / "pool" / "unlabelled.jsonl").write_text(json.dumps(items[0]) + "\n")
    res = label(lab, "s1")
    assert res.exit_code == 0 and "nothing left to label" in res.output
    assert "nothing left to label: every sentence is labelled or skipped" in label(lab, "").output
    (lab / "pool" / "unlabelled.jsonl").write_text("")
    assert "the pool is empty: add sentences with `stance-bench pool add FILE`" in label(lab, "").output


def test_bad_dataset_or_model_is_refused_before_labelling(pool):
    lab, items = pool
    for args, msg in ((["--dataset", "Bad Name"], "dataset: 'Bad Name' is not a dataset name"),
                      (["--order", "uncertain", "--model", "nope"], "unknown model 'nope'")):
        res = label(lab, "m", *args)
        assert res.exit_code == 1 and msg in res.output and "Traceback" not in res.output, res.output
    assert not (lab / "user.jsonl").exists()


def test_a_bad_pool_line_is_named_not_a_traceback(pool):
    lab, items = pool
    with open(lab / "pool" / "unlabelled.jsonl", "a") as fh:
        fh.write('{"id": "x-2", "text": ""}\n{oops\n')
    res = label(lab, "")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"{lab / 'pool' / 'unlabelled.jsonl'}:{len(items) + 2}: record: invalid JSON" in res.output
    (lab / "pool" / "unlabelled.jsonl").write_text(json.dumps({**items[0], "text": ""}) + "\n" + json.dumps(items[1]) + "\n")
    res = label(lab, "")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"{lab / 'pool' / 'unlabelled.jsonl'}:1: text: must not be empty" in res.output


def test_single_keys_from_a_real_terminal(pool):
    """The same loop in a pseudo-terminal: raw single keys (Enter is \\r), Esc, skip, undo, quit."""
    import os
    import pty
    import select
    import sys

    lab, items = pool
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child process
        os.execv(sys.executable, [sys.executable, "-c", "from bench.cli import main; main()", "label", "--labels", str(lab)])
    out = b""

    def read_until(marker: bytes) -> None:
        nonlocal out
        while marker not in out:
            ready, _, _ = select.select([fd], [], [], 120)
            assert ready, out.decode(errors="replace")[-500:]
            out += os.read(fd, 65536)

    read_until(b"tension?")
    os.write(fd, answer(items[0], lab).encode())  # several keys in one read, as when typing fast
    os.write(fd, b"\x1b[A")  # an arrow key: ignored
    for k in "\x1b" + "s1" + "u":
        os.write(fd, k.encode())
    read_until(b"answer it again")
    os.write(fd, b"q")
    read_until(b"quit: 1 answer(s) saved")
    os.waitpid(pid, 0)
    assert [r["id"] for r in read(lab / "user.jsonl")] == [items[0]["id"]]
    assert read(lab / "pool" / "skipped.jsonl") == []
