from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.data.schema import MAX_LINE_BYTES
from bench.data.store import LabelError, append_records, check_store, fingerprint, load_records

from .conftest import REPO


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


def files_hash(folder: Path) -> str:
    """A hash of every file under `folder` but the lock file: equal hashes mean nothing changed on disk."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != ".labels.lock":
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@pytest.mark.parametrize("name", ["evil\n", "-x", "con", "aux", "nul", "lpt1", "../up"])
def test_bad_dataset_names_are_refused_and_no_file_is_made(labels: Path, name: str) -> None:
    before = files_hash(labels)
    with pytest.raises(LabelError) as err:
        append_records(name, [new_record()], labels)
    assert len(err.value.problems) == 1 and "\n" not in err.value.problems[0] and ": dataset: " in err.value.problems[0]
    assert files_hash(labels) == before and not list(labels.glob("*evil*"))


def test_id_with_double_colon_is_refused_before_it_reaches_the_export(labels: Path) -> None:
    before = files_hash(labels)
    with pytest.raises(LabelError, match=r"user.jsonl:1: id: 'a::RUS' is not a valid id"):
        append_records("user", [new_record(id="a::RUS")], labels)
    assert files_hash(labels) == before


def test_lone_surrogate_is_refused_and_nothing_written(labels: Path) -> None:
    before = files_hash(labels)
    with pytest.raises(LabelError, match=r"user.jsonl:1: text: holds a lone surrogate"):
        append_records("user", [new_record(text="NATO met \ud800 Russia.")], labels)
    assert files_hash(labels) == before
    (labels / "user.jsonl").write_text(json.dumps(new_record(text="NATO met \ud800 Russia.")) + "\n")  # escaped \ud800
    _, problems = check_store(labels)
    assert problems == [f"{labels / 'user.jsonl'}:1: text: holds a lone surrogate '\\ud800' at character 10, which is not valid Unicode text"]


@pytest.mark.parametrize("content, message", [
    (b'{"id": "x"}\n\xff\xfe{"id": "y"}\n', ":2: record: invalid UTF-8"),
    (b"\xef\xbb\xbf" + json.dumps(new_record()).encode() + b"\n", ":1: record: the file starts with a byte-order mark"),
    (json.dumps(new_record()).encode() + b"\n" + b'{"id": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n', ":2: record: the line is longer than 100,000 bytes"),
    (json.dumps(new_record()).encode() + b"\r\n" + b"\x00\r\n", ":2: record: invalid JSON"),
    (b"[" * 50_000 + b"\n", ":1: record: invalid JSON"),
])
def test_unreadable_label_lines_are_reported_with_file_and_line(labels: Path, content: bytes, message: str) -> None:
    path = labels / "broken.jsonl"
    path.write_bytes(content)
    _, problems = check_store(labels)
    assert any(p.startswith(f"{path}{message}") for p in problems), problems
    before = files_hash(labels)
    with pytest.raises(LabelError):
        append_records("broken", [new_record()], labels)
    with pytest.raises(LabelError):
        append_records("user", [new_record()], labels)
    assert files_hash(labels) == before


def test_crlf_label_file_is_read(labels: Path) -> None:
    (labels / "user.jsonl").write_bytes(json.dumps(new_record()).encode() + b"\r\n")
    assert check_store(labels)[1] == []


def test_ten_megabyte_sentence_is_refused(labels: Path) -> None:
    before = files_hash(labels)
    with pytest.raises(LabelError, match="the line is longer than|the limit is"):
        append_records("user", [new_record(text="NATO " + "x" * 10_000_000)], labels)
    assert files_hash(labels) == before


def test_write_removes_stale_temp_files_and_syncs_the_folder(labels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = [labels / ".user.jsonl.abc123.tmp", labels / ".seed-news.jsonl.zz9.tmp"]
    for p in stale:
        p.write_text('{"half": ')
    keep = labels / "notes.tmp"
    keep.write_text("not ours")
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("rename"), real_replace(a, b))[1])
    append_records("user", [new_record()], labels)
    assert not any(p.exists() for p in stale) and keep.exists()
    assert events[-2:] == ["rename", str(labels.resolve())], events  # the folder is synced after the rename
    ignored = subprocess.run(["git", "check-ignore", "-q", "labels/.user.jsonl.abc123.tmp"], cwd=REPO)
    assert ignored.returncode == 0, "stale temp files must be git-ignored"


def test_refused_write_leaves_stale_temp_files_alone(labels: Path) -> None:
    stale = labels / ".user.jsonl.abc123.tmp"
    stale.write_text("{")
    with pytest.raises(LabelError):
        append_records("user", [new_record(tension="extreme")], labels)
    assert stale.exists()


def test_remove_and_replace_records_keep_other_lines_byte_for_byte(labels: Path) -> None:
    from bench.data.store import remove_records, replace_records

    path = labels / "user.jsonl"
    append_records("user", [new_record(), new_record(id="new-2", text="Moscow warned Warsaw.", stances=[])], labels)
    before = path.read_bytes().split(b"\n")
    replace_records("user", [new_record(tension="high")], labels)
    after = path.read_bytes().split(b"\n")
    assert json.loads(after[0])["tension"] == "high" and after[1:] == before[1:]
    remove_records("user", ["new-1"], labels)
    assert path.read_bytes().split(b"\n") == before[1:]
    snap = snapshot(labels)
    with pytest.raises(LabelError, match="new-1 not in this dataset"):
        remove_records("user", ["new-1"], labels)
    with pytest.raises(LabelError, match="tension"):
        replace_records("user", [new_record(id="new-2", text="Moscow warned Warsaw.", stances=[], tension="hot")], labels)
    assert snapshot(labels) == snap


def test_side_file_lines_append_and_go(tmp_path: Path) -> None:
    from bench.data.store import append_lines, remove_lines

    path = tmp_path / "pool" / "skipped.jsonl"
    append_lines(path, [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}], tmp_path)
    append_lines(path, [{"id": "c", "text": "z"}], tmp_path)
    assert remove_lines(path, ["b", "zz"], tmp_path) == 1
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a", "c"]


WRITER = r'''
import sys, time
from pathlib import Path

import bench.data.store as store

root, mode, start, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if mode == "pause":  # stop between writing the temporary file and the rename, and say so
    def pause(tmp, path):
        (root.parent / "paused").write_text(str(tmp))
        time.sleep(600)
    store._commit = pause
print("ready", flush=True)
for i in range(start, start + count):
    store.append_records("user", [{"id": f"w-{i}", "text": f"NATO and Russia met for round {i} of the talks.",
                                   "doc": f"w-doc-{i % 3}", "tension": "low", "stances": [], "source": "test",
                                   "license": "CC0-1.0"}], root)
'''


def writer(labels: Path, mode: str, start: int, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(labels), mode, str(start), str(count)],
                            stdout=subprocess.PIPE, text=True)


def written_ids(labels: Path) -> list[str]:
    path = labels / "user.jsonl"
    return [json.loads(line)["id"] for line in path.read_text().splitlines()] if path.exists() else []


def stale(labels: Path) -> list[Path]:
    return sorted(labels.glob(".*.tmp"))


def test_writer_killed_before_the_rename_leaves_the_data_valid(labels: Path) -> None:
    before = files_hash(labels)
    proc = writer(labels, "pause", 0, 1)
    flag = labels.parent / "paused"
    for _ in range(1200):  # a guard against a hung writer, not a timing assertion
        if flag.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert flag.exists(), "the writer never reached the rename"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert stale(labels) == [Path(flag.read_text())]  # the finished temporary file, never renamed
    assert check_store(labels)[1] == [] and not (labels / "user.jsonl").exists()
    assert files_hash(labels) != before  # only because of the temporary file
    append_records("user", [new_record()], labels)
    assert stale(labels) == [] and written_ids(labels) == ["new-1"]


def test_writers_killed_at_random_moments_leave_the_data_valid(labels: Path) -> None:
    rng = random.Random(12)
    for k in range(4):
        proc = writer(labels, "add", 100 * k, 40)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        records, problems = check_store(labels)
        assert problems == []
        ids = written_ids(labels)
        assert len(ids) == len(set(ids)) and all(i.startswith("w-") for i in ids)
    append_records("user", [new_record()], labels)
    assert stale(labels) == [] and written_ids(labels)[-1] == "new-1" and check_store(labels)[1] == []


def test_concurrent_writers_lose_nothing(labels: Path) -> None:
    procs = [writer(labels, "add", 5 * k, 5) for k in range(4)]
    for p in procs:
        p.communicate()
        assert p.returncode == 0
    assert sorted(written_ids(labels)) == sorted(f"w-{i}" for i in range(20))
    assert check_store(labels)[1] == [] and stale(labels) == []


@pytest.mark.parametrize("bad", [b"{oops", b"\xff\xfe", b"[1, 2]", b"\xef\xbb\xbf{}"])
def test_side_file_writers_refuse_a_file_they_cannot_read(labels: Path, bad: bytes) -> None:
    from bench.data.store import append_lines, remove_lines, remove_records

    side = labels / "pool" / "unlabelled.jsonl"
    side.parent.mkdir()
    side.write_bytes(b'{"id": "p-1"}\n' + bad + b"\n" if not bad.startswith(b"\xef") else bad + b"\n")
    line = 1 if bad.startswith(b"\xef") else 2
    (labels / "user.jsonl").write_bytes(side.read_bytes())
    before = files_hash(labels)
    for call in (lambda: append_lines(side, [{"id": "p-2"}], labels), lambda: remove_lines(side, ["p-1"], labels),
                 lambda: remove_records("user", ["p-1"], labels)):
        with pytest.raises(LabelError) as err:
            call()
        assert str(err.value).split(": ")[0].endswith(f".jsonl:{line}") and "\n" not in str(err.value)
    assert files_hash(labels) == before
