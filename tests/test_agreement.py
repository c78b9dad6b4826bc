from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from bench.annotation.agreement import agreement, human_records, krippendorff_alpha
from bench.data.store import load_records


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_figures_from_small_files(tmp_path: Path) -> None:
    first = [{"id": "a", "tension": "low", "stances": [{"actor": "RUS", "stance": "cautious"}, {"actor": "USA", "stance": "pro-cooperation"}]},
             {"id": "b", "tension": "high", "stances": []},
             {"id": "c", "tension": "medium", "stances": [{"actor": "NATO", "stance": "deterrence-seeking"}]},
             {"id": "d", "skip": "trade"}]
    second = [{"id": "a", "tension": "low", "stances": [{"actor": "RUS", "stance": "deterrence-seeking"}]},
              {"id": "b", "tension": "high", "stances": []},
              {"id": "c", "tension": "low", "stances": [{"actor": "NATO", "stance": "deterrence-seeking"}, {"actor": "EST", "stance": "cautious"}]},
              {"id": "d", "skip": "trade"}]
    write(tmp_path / "agreement" / "first.jsonl", first)
    write(tmp_path / "agreement" / "second.jsonl", second)
    res = agreement(tmp_path)
    assert res["sample"] == 4 and res["both_labelled"] == 3 and res["skips"]["both"] == 1
    t = res["tension"]
    assert t["cohen_kappa"] == pytest.approx(cohen_kappa_score(["low", "high", "medium"], ["low", "high", "low"]))
    assert t["confusion"]["matrix"][1][0] == 1  # medium (first) vs low (second)
    s = res["stance"]
    # actor sets: first {RUS, USA}, {}, {NATO}; second {RUS}, {}, {NATO, EST}: overlap 2 of 3 + 3
    assert s["actor_set_f1"] == pytest.approx(2 * 2 / (3 + 3))
    assert s["n"] == 2 and s["observed_agreement"] == pytest.approx(0.5)


def test_krippendorff_alpha_known_values() -> None:
    assert krippendorff_alpha([0, 1, 2, 0], [0, 1, 2, 0], "nominal") == pytest.approx(1.0)
    # Krippendorff (2011) style check: alpha of two coders nominal equals 1 - Do/De
    a, b = [0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]
    import numpy as np

    pairs = list(zip(a, b)) + list(zip(b, a))
    vals = np.array(a + b)
    n = len(vals)
    do = sum(x != y for x, y in pairs) / len(pairs)
    de = sum((vals[i] != vals[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    assert krippendorff_alpha(a, b, "nominal") == pytest.approx(1 - do / de)


def test_human_rows_score_second_annotator_against_gold(labels: Path) -> None:
    recs = [r for r in load_records(labels) if r["stances"]][:6]
    second = []
    for r in recs:
        second.append({"id": r.id, "tension": r["tension"], "stances": [dict(st) for st in r["stances"]]})
    write(labels / "agreement" / "second.jsonl", second)
    # the second annotator drops one stance and flips another: coverage and accuracy must show it
    with_stances = [a for a in second if a["stances"]]
    assert len(with_stances) >= 2
    dropped = with_stances[0]["stances"].pop()
    flip = with_stances[1]["stances"][0]
    flip["stance"] = "cautious" if flip["stance"] != "cautious" else "pro-cooperation"
    write(labels / "agreement" / "second.jsonl", second)
    rows = {h["task"]: h for h in human_records(labels)}
    assert rows["tension"]["metrics"]["accuracy"]["value"] == 1.0
    assert rows["tension"]["model"] == "human" and rows["tension"]["n_test"] == 6
    gold_pairs = sum(len(r["stances"]) for r in recs)
    st = rows["stance"]
    assert st["n_test"] == gold_pairs - 1 and st["coverage"] == pytest.approx((gold_pairs - 1) / gold_pairs)
    assert st["metrics"]["accuracy"]["value"] == pytest.approx((gold_pairs - 2) / (gold_pairs - 1))
    assert dropped["actor"]


@pytest.mark.parametrize("bad, message", [
    (b'{"id": "b", "tension": "hig', "record: invalid JSON"),
    (b'{"id": "b", "tension": "\xff"}', "record: invalid UTF-8"),
    (b'{"tension": "low"}', "id: is missing"),
    (b'{"id": "b", "tension": "severe"}', "tension: 'severe' is not one of"),
    (b'{"id": "b", "tension": "low", "stances": [{"actor": "RUS", "stance": "angry"}]}', "stances[0].stance:"),
    (b'{"id": "b", "tension": "low", "stances": [7]}', "stances[0].actor: is missing"),
    (b'"just text"', "record: must be a JSON object"),
])
def test_unreadable_annotation_lines_are_one_line_each(tmp_path: Path, bad: bytes, message: str) -> None:
    from typer.testing import CliRunner

    from bench.cli import app

    write(tmp_path / "labels" / "agreement" / "first.jsonl", [{"id": "a", "skip": "trade"}])
    second = tmp_path / "labels" / "agreement" / "second.jsonl"
    second.write_bytes(b'{"id": "a", "skip": "trade"}\n' + bad + b"\n")
    res = CliRunner().invoke(app, ["agreement", "--labels", str(tmp_path / "labels"), "--models", str(tmp_path / "models")])
    assert res.exit_code == 1 and res.output.strip() == res.output.strip().splitlines()[0], res.output
    assert res.output.startswith(f"{second}:2: {message}"), res.output
    assert not (tmp_path / "models").exists()


def test_agreement_on_other_data_keeps_the_human_rows_of_this_data(labels: Path, tmp_path: Path) -> None:
    """Human rows are replaced per data fingerprint: another labels folder adds its own (#12 item 6)."""
    from typer.testing import CliRunner

    from bench.scoring import leaderboard as lb
    from bench.cli import app
    from bench.data.store import fingerprint

    from .conftest import small_labels

    other = small_labels(tmp_path / "other", docs_per_dataset=5)
    for folder in (labels, other):
        rows = [{"id": r.id, "tension": r["tension"], "stances": r["stances"]} for r in load_records(folder)[:8]]
        write(folder / "agreement" / "first.jsonl", rows)
        write(folder / "agreement" / "second.jsonl", rows)
    models = tmp_path / "models"
    runner = CliRunner()
    for folder in (labels, other, labels):
        res = runner.invoke(app, ["agreement", "--labels", str(folder), "--models", str(models)])
        assert res.exit_code == 0, res.output
    humans = [r for r in lb.load(lb.path_jsonl(models)) if r["model"] == "human"]
    assert sorted((r["task"], r["data_fingerprint"]) for r in humans) == sorted(
        (t, f) for t in ("stance", "tension", "actors") for f in (fingerprint(labels), fingerprint(other)))
    res = runner.invoke(app, ["leaderboard", "--labels", str(labels), "--models", str(models)])
    assert "human (ceiling)" in res.output and f"data {fingerprint(other)}" in res.output
