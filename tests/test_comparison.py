"""`compare` from stored files (test side, stored predictions) gives what running the models gives."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.data.store import fingerprint
from bench.scoring import leaderboard as lb, metrics
from bench.scoring.comparison import TestSide, compare, stored_side, side_path, store_side

runner = CliRunner()


@pytest.fixture()
def fresh(trained: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """(labels, models) where no test side and no test predictions are stored yet (as after `train`)."""
    lab, src = trained
    mod = shutil.copytree(src, tmp_path / "models")
    for p in [*mod.rglob("*.test-predictions.json"), *mod.rglob("test-side.json")]:
        p.unlink()
    return lab, mod


def _cli(lab: Path, mod: Path, *args: str) -> str:
    res = runner.invoke(app, ["compare", *args, "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    return res.output


def test_stored_files_give_the_same_comparison_as_running_the_models(fresh: tuple[Path, Path]) -> None:
    from bench.scoring.evaluation import evaluate

    lab, mod = fresh
    slow = compare("tfidf-lr", "majority", "stance", "document", lab, mod)  # runs both models, stores the files
    slow_out = _cli(lab, mod, "tfidf-lr", "majority", "-t", "stance")
    assert side_path(mod, "stance", "document").exists()
    fast = compare("tfidf-lr", "majority", "stance", "document", lab, mod)
    assert fast == slow
    assert _cli(lab, mod, "tfidf-lr", "majority", "-t", "stance") == slow_out
    # the same figures as the leaderboard records of both models (the paired test on their per-document counts)
    recs = {r["model"]: r for r in evaluate(["tfidf-lr", "majority"], "stance", "document", lab, mod)}
    D = {m: lb._docs(r) for m, r in recs.items()}
    diff, p = metrics.paired_bootstrap_pvalue(D["tfidf-lr"], D["majority"], metrics.macro_f1_score)
    assert (fast.difference, fast.p_value) == (diff, p)
    assert fast.score_a == recs["tfidf-lr"]["metrics"]["macro_f1"]["value"]
    assert fast.f1_b == [recs["majority"]["per_class"][c]["f1"] for c in fast.labels]
    assert f"p = {p:.4f}" in slow_out and f"n={recs['majority']['n_test']}" in slow_out


def test_compare_from_stored_files_imports_neither_sklearn_nor_pandas(fresh: tuple[Path, Path]) -> None:
    lab, mod = fresh
    compare("tfidf-lr", "majority", "tension", "document", lab, mod)  # stores the files
    code = ("import sys; from bench.cli import app; from typer.testing import CliRunner; "
            f"r = CliRunner().invoke(app, ['compare', 'tfidf-lr', 'majority', '-t', 'tension', '--labels', {str(lab)!r}, "
            f"'--models', {str(mod)!r}]); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('sklearn', 'pandas', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_stale_or_broken_test_side_is_rebuilt(fresh: tuple[Path, Path]) -> None:
    lab, mod = fresh
    good = compare("tfidf-lr", "majority", "tension", "document", lab, mod)
    path = side_path(mod, "tension", "document")
    fp = fingerprint(lab)
    assert stored_side("tension", "document", fp, mod) == good.side
    assert stored_side("tension", "document", "000000000000", mod) is None  # other data
    assert stored_side("stance", "document", fp, mod) is None  # not stored for that task
    wrong = TestSide(good.side.ids, good.side.text, ["high"] * len(good.side), good.side.groups)
    store_side(wrong, "tension", "document", "000000000000", mod)  # made on other data: not used
    assert compare("tfidf-lr", "majority", "tension", "document", lab, mod) == good
    assert stored_side("tension", "document", fp, mod) == good.side  # and rewritten for this data
    d = json.loads(path.read_text())
    path.write_text(json.dumps({**d, "gold": d["gold"][:-1]}))  # columns of different lengths
    assert stored_side("tension", "document", fp, mod) is None
    path.write_text("{not json")
    assert compare("tfidf-lr", "majority", "tension", "document", lab, mod) == good


def test_external_rows_compare_on_a_fresh_clone(trained: tuple[Path, Path], tmp_path: Path) -> None:
    """Only the tracked files (leaderboard, models/external/) and the labels: no model, no test side stored."""
    from bench.scoring.submission import test_inputs

    lab, src = trained
    mod = shutil.copytree(src, tmp_path / "work")
    inputs = test_inputs("tension", "document", lab)
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": x["id"], "prediction": "low" if i % 2 else "high"}) + "\n"
                             for i, x in enumerate(inputs)))
    res = runner.invoke(app, ["score", str(preds), "-t", "tension", "--name", "ext-a", "--no-plots",
                              "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    preds.write_text("".join(json.dumps({"id": x["id"], "prediction": "medium"}) + "\n" for x in inputs))
    res = runner.invoke(app, ["score", str(preds), "-t", "tension", "--name", "ext-b", "--no-plots",
                              "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(mod / "leaderboard.jsonl", clone / "leaderboard.jsonl")
    shutil.copytree(mod / "external", clone / "external")
    out = _cli(lab, clone, "ext-a", "ext-b", "-t", "tension")
    assert "ext-a vs ext-b · tension · document split" in out and "records where they disagree" in out
    assert _cli(lab, clone, "ext-a", "ext-b", "-t", "tension") == out  # the second time from the stored test side
    assert side_path(clone, "tension", "document").exists()


def test_a_test_side_that_cannot_be_stored_is_no_error(fresh: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.scoring.comparison as comparison

    lab, mod = fresh
    good = compare("tfidf-lr", "majority", "tension", "document", lab, mod)
    side_path(mod, "tension", "document").unlink()

    def read_only(*args: object, **kwargs: object) -> Path:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(comparison, "store_side", read_only)
    assert compare("tfidf-lr", "majority", "tension", "document", lab, mod) == good
    assert not side_path(mod, "tension", "document").exists()
