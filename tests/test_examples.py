"""examples/sklearn_export.py: a plain scikit-learn script on the exported dataset scores exactly what
the registered model it reproduces scores."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.conftest import REPO, read, small_labels


def example(name: str):  # noqa: ANN201
    spec = importlib.util.spec_from_file_location(f"example_{name}", REPO / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(labels, models, export) with majority and tfidf-lr-blind trained for both tasks."""
    from bench.data.hf import export
    from bench.models.training import train

    root = tmp_path_factory.mktemp("sk")
    lab = small_labels(root / "labels", docs_per_dataset=12)
    mod = root / "models"
    for name in ("majority", "tfidf-lr-blind"):
        for task in ("stance", "tension"):
            train(name, task, "document", 0, lab, mod)
    return lab, mod, export(root / "export", "document", lab)


@pytest.mark.parametrize("task", ["stance", "tension"])
@pytest.mark.parametrize("name", ["majority", "tfidf-lr-blind"])
def test_sklearn_export_scores_like_the_registered_model(setup, name, task, tmp_path):
    """Trained on the export, answering `test-inputs`, scored through `score`: the recorded scores are
    exactly the registered model's record (macro-F1 and every other metric, with the same intervals)."""
    from bench.scoring import leaderboard as lb
    from bench.models.artifacts import model_path, read_manifest
    from bench.scoring.evaluation import evaluate
    from bench.scoring.submission import score_predictions, test_inputs

    lab, mod, exp = setup
    C = read_manifest(model_path(mod, name, task, "document"))["params"].get("clf__C", 1.0)
    inputs = tmp_path / "inputs.jsonl"
    test_inputs(task, "document", lab, inputs)
    out = example("sklearn_export").main([str(exp), "--task", task, "--pipeline", name, "--C", str(C),
                                          "--inputs", str(inputs), "-o", str(tmp_path / "p.jsonl")])
    board = tmp_path / "board"
    score_predictions(out, task, "document", f"sklearn-{name}", labels=lab, models=board, plots=False)
    mine = next(r for r in lb.load(lb.path_jsonl(board)) if r["model"] == f"sklearn-{name}")
    reg = evaluate([name], task, "document", lab, mod)[0]
    assert mine["external"] is True
    assert mine["metrics"]["macro_f1"]["value"] == reg["metrics"]["macro_f1"]["value"]
    assert mine["metrics"] == reg["metrics"] and mine["confusion"] == reg["confusion"]


def test_finetune_inputs_mark_the_actor_and_batches_cover_every_row():
    """The parts of examples/finetune_minilm.py that need no torch (the fine-tuning itself is too slow for tests)."""
    import random

    ft = example("finetune_minilm")
    rows = {"text": ["Russia warned NATO.", "We seek peace."], "actor": ["RUS", "USA"], "bloc": ["russia", "nato"],
            "mention": ["Russia", None]}
    assert ft.inputs(rows, "stance") == [("RUS russia", " actorstart Russia actorend  warned NATO."),
                                         ("USA nato", "actorspeaker We seek peace.")]
    assert ft.inputs(rows, "tension") == [("Russia warned NATO.", None), ("We seek peace.", None)]
    pairs = [("x" * (i % 7), None) for i in range(100)]
    got = ft.batches(pairs, random.Random(0))
    assert sorted(i for b in got for i in b) == list(range(100)) and all(len(b) <= ft.BATCH for b in got)
