from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from bench.cli import app

from .conftest import read

runner = CliRunner(env={"COLUMNS": "200"})


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.jsonl"))}


def test_help_does_not_import_heavy_libraries() -> None:
    code = "import sys; from bench.cli import app; print(any(m in sys.modules for m in ('sklearn', 'datasets', 'matplotlib', 'pandas')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0 and "leaderboard" in res.output


def test_validate_and_stats(labels: Path) -> None:
    res = runner.invoke(app, ["validate", "--labels", str(labels)])
    assert res.exit_code == 0 and res.output.startswith("OK:")
    res = runner.invoke(app, ["stats", "--labels", str(labels)])
    assert res.exit_code == 0 and "by dataset" in res.output and "deterrence-seeking" in res.output


def test_validate_reports_problems(labels: Path) -> None:
    (labels / "bad.jsonl").write_text(json.dumps({"id": "b1", "text": "x", "doc": "d", "tension": "hot", "stances": [],
                                                   "source": "s", "license": "l"}) + "\n")
    res = runner.invoke(app, ["validate", "--labels", str(labels)])
    assert res.exit_code == 1 and "bad.jsonl:1: tension: 'hot' is not one of low, medium, high" in res.output


def test_add_appends_a_valid_sentence(labels: Path) -> None:
    res = runner.invoke(app, ["add", "Moscow threatened to aim missiles at Poland.", "--tension", "high", "--doc", "user-doc-1",
                              "--source", "my reading", "--license", "CC0-1.0", "--actor", "RUS=deterrence-seeking",
                              "--mention", "RUS=Moscow", "--date", "2008-07-09", "--labels", str(labels)])
    assert res.exit_code == 0, res.output
    rec = read(labels / "user.jsonl")[-1]
    assert rec["stances"] == [{"actor": "RUS", "stance": "deterrence-seeking", "mention": "Moscow"}]
    assert rec["tension"] == "high" and rec["license"] == "CC0-1.0" and rec["date"] == "2008-07-09"


def test_add_unknown_actor_suggests_and_changes_nothing(labels: Path) -> None:
    before = snapshot(labels)
    res = runner.invoke(app, ["add", "Russia warned Estonia.", "--tension", "medium", "--doc", "d", "--source", "s",
                              "--license", "CC0-1.0", "--actor", "Estonai=cautious", "--labels", str(labels)])
    assert res.exit_code == 1 and "unknown actor 'Estonai'" in res.output and "EST" in res.output
    assert snapshot(labels) == before


def test_add_bad_label_names_the_field_and_changes_nothing(labels: Path) -> None:
    before = snapshot(labels)
    res = runner.invoke(app, ["add", "Russia warned Estonia.", "--tension", "tense", "--doc", "d", "--source", "s",
                              "--license", "CC0-1.0", "--actor", "RUS=angry", "--dataset", "seed-news", "--labels", str(labels)])
    assert res.exit_code == 1
    assert "seed-news.jsonl:" in res.output and ": tension: 'tense'" in res.output and "stances[0].stance" in res.output
    res = runner.invoke(app, ["add", "Russia warned Estonia.", "--tension", "medium", "--doc", "d", "--source", "s",
                              "--license", "CC0-1.0", "--actor", "RUS", "--labels", str(labels)])
    assert res.exit_code == 1 and "ACTOR=" in res.output
    assert snapshot(labels) == before


def test_train_eval_leaderboard_compare_end_to_end(labels: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    common = ["--labels", str(labels), "--models", str(models)]
    res = runner.invoke(app, ["train", "-m", "majority", "-m", "tfidf-lr-blind", *common])
    assert res.exit_code == 0, res.output
    assert "CV macro-F1" in res.output and "trained" in res.output
    res = runner.invoke(app, ["train", "-m", "majority", *common])
    assert "up to date" in res.output
    res = runner.invoke(app, ["eval", "-m", "majority", "-m", "tfidf-lr-blind", *common])
    assert res.exit_code == 0, res.output
    for text in ("macro_f1", "per class", "confusion matrix", "gold \\ predicted", "severe_error_rate", "qwk", "leaderboard"):
        assert text in res.output
    assert (models / "leaderboard.jsonl").exists() and (models / "LEADERBOARD.md").exists()
    pngs = sorted(p.name for p in (models / "plots").glob("*.png"))
    assert "confusion-stance-document-tfidf-lr-blind.png" in pngs and len(pngs) == 4
    records = read(models / "leaderboard.jsonl")
    assert {(r["task"], r["model"]) for r in records} == {(t, m) for t in ("stance", "tension") for m in ("majority", "tfidf-lr-blind")}
    res = runner.invoke(app, ["leaderboard", *common])
    assert res.exit_code == 0 and "majority (floor)" in res.output
    res = runner.invoke(app, ["compare", "tfidf-lr-blind", "majority", "--task", "tension", *common])
    assert res.exit_code == 0 and "paired bootstrap" in res.output and "disagree" in res.output


def test_eval_of_a_missing_model_explains(labels: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["eval", "-m", "tfidf-cnb", "--labels", str(labels), "--models", str(tmp_path)])
    assert res.exit_code == 1 and "not trained" in res.output and "stance-bench train -m tfidf-cnb" in res.output


def test_user_mistakes_get_messages_not_tracebacks(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    common = ["--labels", str(lab), "--models", str(mod)]
    cases = [
        (["eval", "-m", "bert", *common], "unknown model 'bert'"),
        (["compare", "actor-prior", "tfidf-lr", "-t", "tension", *common], "does not do the tension task"),
        (["predict", "-m", "bert", "-t", "stance", "-i", str(tmp_path / "x.jsonl"), "-o", str(tmp_path / "o.jsonl"), *common], "unknown model"),
        (["predict", "-m", "tfidf-lr", "-t", "stance", "-i", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl"), *common], "no such input file"),
        (["validate", "--labels", str(tmp_path / "nowhere")], "no such file"),
        (["agreement", "--labels", str(tmp_path / "nowhere")], "no such file"),
    ]
    for args, message in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 1, (args, res.output)
        assert message in res.output, (args, res.output)
        assert res.exc_info is None or res.exc_info[0] is SystemExit, (args, res.exc_info)


def test_export_refuses_a_folder_with_other_files(labels: Path, tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("my project")
    res = runner.invoke(app, ["export", str(tmp_path), "--labels", str(labels)])
    assert res.exit_code == 1 and "not empty" in res.output
    assert (tmp_path / "README.md").read_text() == "my project"


def test_predict_command(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "Moscow warned it would respond to NATO's deployments.", "actor": "RUS", "ref": 7}) + "\n")
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["predict", "-m", "tfidf-lr", "-t", "stance", "-i", str(inp), "-o", str(out),
                              "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    rec = read(out)[0]
    assert rec["ref"] == 7 and rec["prediction"] in rec["probabilities"]


def test_export_model_skops(trained: tuple[Path, Path], tmp_path: Path) -> None:
    from bench.sharing import load_skops

    lab, mod = trained
    out = tmp_path / "m.skops"
    res = runner.invoke(app, ["export-model", "actor-prior", "--task", "stance", "-o", str(out), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    assert "bench.models.ActorPrior" in res.output
    import pandas as pd
    import pytest
    import skops.io as sio

    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(out, trusted=[])
    est = load_skops(out, trusted=["bench.models.ActorPrior"])
    assert est.predict(pd.DataFrame({"actor": ["RUS"]}))[0] in ("pro-cooperation", "cautious", "deterrence-seeking")
