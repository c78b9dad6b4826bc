"""The leaderboard file is never silently lost: an unreadable line stops every reader and writer."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.scoring import leaderboard as lb
from bench.cli import app

from .conftest import REPO

runner = CliRunner()
# Four real stance records of the tracked leaderboard (whatever other tasks sort before them).
REAL = [r for r in map(json.loads, (REPO / "models" / "leaderboard.jsonl").read_text().splitlines())
        if r["task"] == "stance"][:4]

BAD_LINES = {
    "truncated": (b'{"task": "stance", "split": "docu', "record: invalid JSON"),
    "garbage": (b"<<<<<<< HEAD", "record: invalid JSON"),
    "not an object": (b'["stance", "document"]', "record: must be a JSON object"),
    "missing model": (json.dumps({k: v for k, v in REAL[0].items() if k != "model"}).encode(), "model: is missing"),
    "wrong type": (json.dumps({**REAL[0], "n_test": "many"}).encode(), "n_test: is missing or not a int"),
    "no macro_f1": (json.dumps({**REAL[0], "metrics": {}}).encode(), "metrics: macro_f1"),
    "invalid UTF-8": (b'{"model": "\xff"}', "record: invalid UTF-8"),
    "NUL": (b"\x00", "record: invalid JSON"),
}


def board(tmp_path: Path, bad: bytes | None = None, at: int = 3) -> Path:
    """A models folder whose leaderboard holds real records, with `bad` as line `at` (1-based)."""
    models = tmp_path / "models"
    models.mkdir()
    lines = [json.dumps(r, sort_keys=True).encode() for r in REAL]
    if bad is not None:
        lines.insert(at - 1, bad)
    lb.path_jsonl(models).write_bytes(b"\n".join(lines) + b"\n")
    return models


def test_real_records_load(tmp_path: Path) -> None:
    assert lb.load(lb.path_jsonl(board(tmp_path))) == REAL


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_unreadable_line_names_file_line_and_repair(tmp_path: Path, kind: str) -> None:
    bad, message = BAD_LINES[kind]
    path = lb.path_jsonl(board(tmp_path, bad, at=3))
    with pytest.raises(lb.LeaderboardError) as err:
        lb.load(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:3: {message}") and "\n" not in msg
    assert "repair or delete that line" in msg and "git checkout" in msg


def test_save_refuses_to_overwrite_an_unreadable_file(tmp_path: Path) -> None:
    models = board(tmp_path, b"{oops", at=2)
    before = lb.path_jsonl(models).read_bytes()
    with pytest.raises(lb.LeaderboardError, match=":2: record: invalid JSON"):
        lb.save(REAL[:1], models, "whatever")
    with pytest.raises(lb.LeaderboardError):
        lb.update(models, REAL[:1], "whatever")
    assert lb.path_jsonl(models).read_bytes() == before and not lb.path_md(models).exists()


def test_update_keeps_every_readable_record(tmp_path: Path) -> None:
    models = board(tmp_path)
    new = {**REAL[0], "model": "another-model"}
    records = lb.update(models, [new], REAL[0]["data_fingerprint"])
    assert len(records) == len(REAL) + 1 and len(lb.load(lb.path_jsonl(models))) == len(REAL) + 1


@pytest.mark.parametrize("command", [["leaderboard"], ["leaderboard", "--drop-stale"], ["agreement"],
                                     ["eval", "-m", "majority", "-t", "tension"]])
def test_commands_report_the_line_in_one_line_and_change_nothing(tmp_path: Path, labels: Path, command: list[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.scoring.evaluation

    models = board(tmp_path, b'{"task": "stance", "spl', at=2)
    before = sorted((p.name, p.read_bytes()) for p in models.iterdir())
    work: list[str] = []
    monkeypatch.setattr(bench.scoring.evaluation, "evaluate", lambda *a, **k: work.append("evaluate") or [])
    res = runner.invoke(app, [*command, "--labels", str(labels), "--models", str(models)])
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{lb.path_jsonl(models)}:2: record: invalid JSON"), res.output
    assert work == []  # eval checked the leaderboard before doing any work
    assert sorted((p.name, p.read_bytes()) for p in models.iterdir()) == before


def test_model_names_are_escaped_in_the_markdown() -> None:
    """A shared leaderboard's model name cannot add a table column, HTML or a link to LEADERBOARD.md (#12 item 10)."""
    evil = "a|b<img src=x onerror=alert(1)>[x](javascript:y)"
    rec = {**REAL[0], "model": evil}
    stale = {**REAL[1], "model": evil, "data_fingerprint": "old|<b>"}
    md = lb.render([rec, stale], REAL[0]["data_fingerprint"])
    assert "<img" not in md and "<b>" not in md and "](javascript" not in md.replace(r"\](javascript", "")
    rows = [line for line in md.splitlines() if "onerror" in line]
    assert len(rows) == 2
    header = {line.count("|") for line in md.splitlines() if line.startswith("| rank") or line.startswith("| task")}
    for row in rows:
        assert row.count("|") - row.count("\\|") in header


def test_drop_stale_removes_the_rows_of_other_data_human_rows_included(tmp_path: Path, labels: Path) -> None:
    from bench.data.store import fingerprint

    fp, old_fp = fingerprint(labels), "000000000000"
    current = [{**r, "data_fingerprint": fp} for r in REAL[:2]]
    stale = [{**REAL[2], "data_fingerprint": old_fp}, {**REAL[3], "model": lb.HUMAN, "data_fingerprint": old_fp}]
    models = tmp_path / "models"
    lb.save([*current, *stale], models, fp)
    assert "Stale records" in lb.path_md(models).read_text()
    res = runner.invoke(app, ["leaderboard", "--drop-stale", "--labels", str(labels), "--models", str(models)])
    assert res.exit_code == 0, res.output
    for r in stale:
        assert f"removed stale row: {r['task']} · {r['split']} · {lb.display_name(r)} · data {old_fp}" in res.output
    assert f"removed 2 stale row(s) from {lb.path_jsonl(models)}" in res.output and "STALE" not in res.output
    kept = lb.load(lb.path_jsonl(models))
    assert sorted((r["model"], r["data_fingerprint"]) for r in kept) == sorted((r["model"], fp) for r in current)
    assert "Stale records" not in lb.path_md(models).read_text()
    before = lb.path_jsonl(models).read_bytes()
    assert lb.drop_stale(models, fp) == [] and lb.path_jsonl(models).read_bytes() == before
    assert lb.drop_stale(tmp_path / "nothing", fp) == [] and not (tmp_path / "nothing").exists()


def test_reading_uses_the_ranks_saved_for_the_same_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import copy

    fp = REAL[0]["data_fingerprint"]
    models = tmp_path / "models"
    lb.save([{**r, "rank": 7, "p_value": 0.5} for r in copy.deepcopy(REAL)], models, fp)  # save re-ranks
    saved = lb.load(lb.path_jsonl(models))
    expected = lb.rerank(copy.deepcopy(saved), fp)
    real_rerank = lb.rerank

    def refuse(records: list, fingerprint: str) -> list:
        raise AssertionError("re-ranked")

    monkeypatch.setattr(lb, "rerank", refuse)
    assert lb.ranked(copy.deepcopy(saved), fp) == expected  # the stored ranks, no paired test run
    monkeypatch.setattr(lb, "rerank", real_rerank)
    other = lb.ranked(copy.deepcopy(saved), "000000000000")  # the labels changed since: re-ranked, all stale
    assert all(r["stale"] and "rank" not in r for r in other)
    unranked = [{k: v for k, v in r.items() if k != "rank"} if i == 0 else r for i, r in enumerate(copy.deepcopy(saved))]
    assert lb.ranked(unranked, fp) == expected  # a current row without a rank: re-ranked
