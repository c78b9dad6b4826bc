"""Postures: the CSV's figures equal a direct count from the labels; too-few cells carry no numbers."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.analysis.postures import POSTURE_COLUMNS, TENSION_COLUMNS, postures
from bench.data.store import LabelError

from .conftest import read, small_labels

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_labels(tmp_path_factory.mktemp("postures") / "labels", docs_per_dataset=30)


def direct_counts(labels: Path) -> dict[tuple[str, str], Counter]:
    """(actor, decade) -> stance counts, straight from the JSONL files."""
    out: dict[tuple[str, str], Counter] = {}
    for path in labels.glob("*.jsonl"):
        for r in read(path):
            if "date" not in r:
                continue
            for s in r["stances"]:
                out.setdefault((s["actor"], r["date"][:3] + "0s"), Counter())[s["stance"]] += 1
    return out


def test_csv_index_equals_a_direct_count(lab: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["postures", "--out", str(tmp_path), "--min-n", "5", "--labels", str(lab)])
    assert res.exit_code == 0, res.output
    with open(tmp_path / "postures.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == POSTURE_COLUMNS
        rows = list(reader)
    counts = direct_counts(lab)
    assert {(r["actor"], r["period"]) for r in rows} == set(counts)
    estimated = 0
    for r in rows:
        c = counts[r["actor"], r["period"]]
        n = sum(c.values())
        assert int(r["n"]) == n
        if n < 5:
            assert r["index"] == r["ci_low"] == r["pro_cooperation"] == ""  # too few: no numbers
            continue
        estimated += 1
        assert float(r["index"]) == pytest.approx((c["deterrence-seeking"] - c["pro-cooperation"]) / n, abs=1e-4)
        assert float(r["cautious"]) == pytest.approx(c["cautious"] / n, abs=1e-4)
        assert float(r["ci_low"]) <= float(r["index"]) + 1e-4 <= float(r["ci_high"]) + 2e-4
        assert -1 <= float(r["ci_low"]) and float(r["ci_high"]) <= 1
    assert estimated >= 5
    with open(tmp_path / "tension.csv", newline="") as fh:
        assert tuple(csv.DictReader(fh).fieldnames) == TENSION_COLUMNS
    for png in ("postures_heatmap.png", "postures_lines.png", "tension.png"):
        assert (tmp_path / png).stat().st_size > 10_000
    assert "too few" in res.output and "[" in res.output


def test_tension_index_is_the_mean_of_the_labels(lab: Path) -> None:
    res = postures(labels=lab, plots=False, min_n=1, n_boot=200)
    value = {"low": 0.0, "medium": 0.5, "high": 1.0}
    every = [r for p in lab.glob("*.jsonl") for r in read(p) if "date" in r]
    for row in (r for r in res.tension if r["source"] == "all sources"):
        mine = [value[r["tension"]] for r in every if r["date"][:3] + "0s" == row["period"]]
        assert row["n"] == len(mine) and row["index"] == pytest.approx(sum(mine) / len(mine))


def annotate_lines(labels: Path) -> list[dict]:
    """Lines in `stance-bench annotate`'s output format, carrying the gold labels (a perfect annotator)."""
    return [{"id": r["id"], "text": r["text"], "doc": r["doc"], "date": r.get("date"), "source": r["source"],
             "tension": r["tension"], "tension_probabilities": {},
             "actors": [{"actor": s["actor"], "mention": s.get("mention"), "stance": s["stance"], "probabilities": {}}
                        for s in r["stances"]]}
            for p in sorted(labels.glob("*.jsonl")) for r in read(p)]


def test_annotate_output_gives_the_same_picture_as_its_labels(lab: Path, tmp_path: Path) -> None:
    pred = tmp_path / "annotated.jsonl"
    pred.write_text("".join(json.dumps(x) + "\n" for x in annotate_lines(lab)))
    gold = postures(labels=lab, plots=False, n_boot=200)
    res = postures(pred, labels=lab, plots=False, n_boot=200)
    assert res.postures == gold.postures and res.tension == gold.tension
    assert res.comparison["gold"] == res.comparison["predicted"]  # joined to the test side by id


def test_gold_vs_model_side_by_side(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    res = runner.invoke(app, ["postures", "--model", "actor-prior", "--out", str(tmp_path), "--labels", str(lab),
                              "--models", str(mod), "--actor", "NATO", "--actor", "RUS"])
    assert res.exit_code == 0, res.output
    gold, pred = (list(csv.DictReader(open(tmp_path / f"postures_test_{k}.csv"))) for k in ("gold", "predicted"))
    assert [(r["actor"], r["period"], r["n"]) for r in gold] == [(r["actor"], r["period"], r["n"]) for r in pred]
    assert (tmp_path / "postures_gold_vs_predicted.png").stat().st_size > 10_000


def test_bad_input_is_one_line_per_problem(lab: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "text": "t", "tension": "extreme", "actors": [{"actor": "RUS", "stance": "angry"}]}) + "\n")
    res = runner.invoke(app, ["postures", "--predictions", str(bad), "--labels", str(lab)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"{bad}:1: tension:" in res.output and f"{bad}:1: actors[0]:" in res.output
    with pytest.raises(LabelError, match="unknown actor 'RUSS'"):
        postures(actors=["RUSS"], labels=lab, plots=False)


def test_annotate_output_on_new_text_has_postures_but_no_comparison(lab: Path, tmp_path: Path) -> None:
    lines = [{**x, "id": f"new-{k}", "doc": f"new-{x['doc']}"} for k, x in enumerate(annotate_lines(lab))]
    pred = tmp_path / "new.jsonl"
    pred.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = postures(pred, labels=lab, plots=False, n_boot=100)
    assert res.comparison is None and sum(r["n"] for r in res.postures) == sum(len(x["actors"]) for x in lines if x["date"])
