from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from bench.scoring import leaderboard as lb
from bench.cli import app
from bench.data.schema import STANCES, TENSIONS
from bench.scoring.submission import SubmissionError, external_path, line_problems, probability_problems, read_predictions
from bench.scoring.submission import test_inputs as make_inputs

from .conftest import read

runner = CliRunner(env={"COLUMNS": "200"})


def fake_predictions(inputs: list[dict], labels: tuple[str, ...]) -> list[dict]:
    """Predictions made without the project: a label chosen by hashing the id (and the text)."""
    out = []
    for x in inputs:
        h = int(hashlib.sha256((x["id"] + x["text"]).encode()).hexdigest(), 16)
        pred = labels[h % len(labels)]
        probs = {lab: (0.8 if lab == pred else 0.2 / (len(labels) - 1)) for lab in labels}
        out.append({"id": x["id"], "prediction": pred, "probabilities": probs})
    return out


def write_jsonl(path: Path, lines: list) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


@pytest.fixture(scope="module")
def scored(trained: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A models folder (copy of the trained one) with one external stance row scored through the CLI."""
    lab, trained_mod = trained
    root = tmp_path_factory.mktemp("scored")
    mod = shutil.copytree(trained_mod, root / "models")
    inputs = root / "inputs.jsonl"
    res = runner.invoke(app, ["test-inputs", "--task", "stance", "-o", str(inputs), "--labels", str(lab)])
    assert res.exit_code == 0, res.output
    preds = write_jsonl(root / "preds.jsonl", fake_predictions(read(inputs), STANCES))
    card = root / "card.toml"
    card.write_text('name = "hash-guesser"\nreference = "https://example.org/hash-guesser"\ndescription = "labels by id hash"\n'
                    'parameters = 3\ntrained_on = "none"\nrevision = "1"\nlicense = "MIT"\n')
    res = runner.invoke(app, ["score", str(preds), "--task", "stance", "--name", "hash-guesser", "--card", str(card),
                              "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    return {"labels": lab, "models": mod, "inputs": inputs, "preds": preds, "card": card, "output": res.output}


def test_inputs_have_the_export_ids_and_no_labels(trained: tuple[Path, Path]) -> None:
    from bench.data.hf import load_dataset

    lab, _ = trained
    for task in ("stance", "tension"):
        lines = make_inputs(task, "document", lab)
        assert [x["id"] for x in lines] == load_dataset(task, "document", lab)["test"]["id"]
        for x in lines:
            assert not {"label", "stance", "tension", "stances"} & set(x)
            assert {"text", "date", "speaker", "speaker_country", "title", "source", "doc"} <= set(x)
            if task == "stance":
                assert x["speaker_is_actor"] == (x["mention"] is None)
                assert x["mention"] is None or x["mention"] in x["text"]
    assert any(x["speaker_is_actor"] for x in make_inputs("stance", "document", lab))


def test_recorded_score_equals_independent_macro_f1(scored: dict) -> None:
    from sklearn.metrics import f1_score

    from bench.data.hf import load_dataset

    test = load_dataset("stance", "document", scored["labels"])["test"]
    gold = {i: STANCES[y] for i, y in zip(test["id"], test["label"])}
    preds = {x["id"]: x["prediction"] for x in read(scored["preds"])}
    ids = sorted(gold)
    expected = f1_score([gold[i] for i in ids], [preds[i] for i in ids], average="macro", labels=list(STANCES))
    rec = next(r for r in lb.load(lb.path_jsonl(scored["models"])) if r["model"] == "hash-guesser")
    assert rec["metrics"]["macro_f1"]["value"] == pytest.approx(expected, abs=1e-12)
    assert rec["external"] is True and rec["card"]["name"] == "hash-guesser" and rec["rank"] >= 1
    assert rec["predictions_sha256"] == hashlib.sha256(scored["preds"].read_bytes()).hexdigest()
    for key in ("doc_confusion", "per_class", "per_source", "data_fingerprint", "signature", "split_rule"):
        assert rec[key], key
    kept = external_path(scored["models"], "hash-guesser", "stance", "document")
    assert kept.read_bytes() == scored["preds"].read_bytes()
    md = lb.path_md(scored["models"]).read_text()
    assert "[hash-guesser](https://example.org/hash-guesser) †" in md and "labels by id hash" in md
    assert "plots/leaderboard-stance-document.png" in md and lb.picture_path(scored["models"], "stance", "document").exists()
    res = runner.invoke(app, ["leaderboard", "-t", "stance", "--labels", str(scored["labels"]), "--models", str(scored["models"])])
    assert res.exit_code == 0 and "hash-guesser †" in res.output and "zero-shot" in res.output


@pytest.mark.parametrize("case", ["missing", "unknown", "duplicate", "label", "probabilities", "json"])
def test_bad_file_is_refused_with_the_line_and_nothing_changes(scored: dict, tmp_path: Path, case: str) -> None:
    lines = read(scored["preds"])
    expect = {"missing": f":{len(lines)}: id: end of file, and no prediction for test id {lines[-1]['id']!r}",
              "unknown": ":3: id: 'nope::USA' is not a test id of the stance task on the document split",
              "duplicate": f":{len(lines) + 1}: id: {lines[0]['id']!r} is given twice (first on line 1)",
              "label": ":2: prediction: 'neutral' is not one of pro-cooperation, cautious, deterrence-seeking",
              "probabilities": ":1: probabilities: sum to 1.5, not 1",
              "json": ":2: record: invalid JSON"}[case]
    if case == "missing":
        lines = lines[:-1]
    elif case == "unknown":
        lines[2]["id"] = "nope::USA"
    elif case == "duplicate":
        lines.append(dict(lines[0]))
    elif case == "label":
        lines[1]["prediction"] = "neutral"
    elif case == "probabilities":
        lines[0]["probabilities"] = {lab: 0.5 for lab in STANCES}
    elif case == "json":
        lines[1] = '{"id": "x", "prediction": '
    bad = write_jsonl(tmp_path / "bad.jsonl", lines)
    mod = scored["models"]
    before = {p: p.read_bytes() for p in (lb.path_jsonl(mod), lb.path_md(mod))}
    res = runner.invoke(app, ["score", str(bad), "--task", "stance", "--name", "other-model",
                              "--labels", str(scored["labels"]), "--models", str(mod)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"{bad}{expect}" in res.output and "nothing was recorded" in res.output
    assert {p: p.read_bytes() for p in before} == before
    assert not external_path(mod, "other-model", "stance", "document").exists()


def test_names_of_our_models_are_refused(scored: dict) -> None:
    for name in ("tfidf-lr", "human", "bad name"):
        res = runner.invoke(app, ["score", str(scored["preds"]), "--task", "stance", "--name", name,
                                  "--labels", str(scored["labels"]), "--models", str(scored["models"])])
        assert res.exit_code == 1 and "name:" in res.output, res.output


def test_card_trained_on_another_split_is_refused(scored: dict, tmp_path: Path) -> None:
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"name": "x", "trained_on": "temporal"}))
    res = runner.invoke(app, ["score", str(scored["preds"]), "--task", "stance", "--name", "x", "--card", str(card),
                              "--labels", str(scored["labels"]), "--models", str(scored["models"])])
    assert res.exit_code == 1 and "trained_on: the model was trained on the temporal split" in res.output


def test_predict_on_test_inputs_scores_like_eval_and_compare_uses_the_stored_file(scored: dict, tmp_path: Path) -> None:
    """test-inputs -> predict -> score reproduces the registered model's record; compare reads the kept copy."""
    from bench.scoring.evaluation import evaluate

    lab, mod = scored["labels"], scored["models"]
    out = tmp_path / "tfidf.jsonl"
    res = runner.invoke(app, ["predict", "-m", "tfidf-lr", "-t", "stance", "-i", str(scored["inputs"]), "-o", str(out),
                              "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["score", str(out), "--task", "stance", "--name", "tfidf-lr-copy", "--no-plots",
                              "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    out.unlink()  # compare must work from the copy kept under models/external/
    ext = next(r for r in lb.load(lb.path_jsonl(mod)) if r["model"] == "tfidf-lr-copy")
    internal = evaluate(["tfidf-lr"], "stance", "document", lab, mod)[0]
    for key in ("metrics", "per_class", "doc_confusion", "per_actor", "per_source"):
        assert ext[key] == internal[key], key
    res = runner.invoke(app, ["compare", "tfidf-lr", "tfidf-lr-copy", "-t", "stance", "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0 and "same prediction on every test record" in res.output, res.output
    res = runner.invoke(app, ["compare", "hash-guesser", "majority", "-t", "stance", "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0 and "hash-guesser (external): hash-guesser; labels by id hash" in res.output
    assert "p = " in res.output and "records where they disagree" in res.output
    res = runner.invoke(app, ["compare", "nobody", "majority", "-t", "stance", "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 1 and res.output.startswith("unknown model 'nobody'") and "nor is it an external row" in res.output


def test_read_predictions_reports_every_problem(tmp_path: Path) -> None:
    p = tmp_path / "p.jsonl"
    p.write_bytes(b'{"id": "a", "prediction": "low"}\n\xff\xfe\n[1]\n{"id": "b", "prediction": "high", "x": 1}\n'
                  b'{"id": "c"}\n')
    with pytest.raises(SubmissionError) as err:
        read_predictions(p, "tension", ["a", "b", "c", "d"])
    assert err.value.problems == [f"{p}:2: record: invalid UTF-8 (byte 1 of the line): save the file as UTF-8",
                                  f"{p}:3: record: must be a JSON object with id and prediction",
                                  f"{p}:5: prediction: missing",
                                  f"{p}:6: id: end of file, and no prediction for test id 'd'"]
    p.write_text('{"id": "a", "prediction": "low"}\n\n{"id": "b", "prediction": "high", "probabilities": null}\n')
    assert read_predictions(p, "tension", ["b", "a"]).ordered(["b", "a"]) == ["high", "low"]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=8)


@given(st.dictionaries(st.sampled_from(["id", "prediction", "probabilities", "text"]),
                       json_values | st.sampled_from(TENSIONS)) | json_values)
def test_line_validator_never_crashes_and_accepts_exactly_valid_lines(obj: object) -> None:
    problems = line_problems(obj, TENSIONS)
    valid = (isinstance(obj, dict) and isinstance(obj.get("id"), str) and obj["id"] != ""
             and obj.get("prediction") in TENSIONS
             and (obj.get("probabilities") is None or not probability_problems(obj["probabilities"], TENSIONS)))
    assert (problems == []) == valid
    assert all(": " in m for m in problems)


@given(st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=3, max_size=3),
       st.sampled_from(["ok", "drop", "extra"]))
def test_probabilities_valid_iff_keys_are_the_labels_and_they_sum_to_one(values: list[float], keys: str) -> None:
    probs = dict(zip(TENSIONS, values))
    if keys == "drop":
        probs.pop("low")
    elif keys == "extra":
        probs["none"] = 0.0
    problems = probability_problems(probs, TENSIONS)
    assert (problems == []) == (keys == "ok" and abs(sum(values) - 1) <= 1e-3)


def test_changed_labels_make_the_external_row_stale_and_score_again_refreshes_it(scored: dict, tmp_path: Path) -> None:
    from bench.data.splits import doc_side
    from bench.data.store import append_records, fingerprint

    lab = shutil.copytree(scored["labels"], tmp_path / "labels")
    mod = shutil.copytree(scored["models"], tmp_path / "models", ignore=shutil.ignore_patterns("*.joblib", "plots"))
    doc = next(d for d in (f"extra-{i}" for i in range(100)) if doc_side(d) == "train")
    append_records("user", [{"id": "zz-1", "text": "An extra sentence about NATO talks.", "doc": doc, "tension": "low",
                             "stances": [], "source": "t", "license": "CC0-1.0"}], lab)
    res = runner.invoke(app, ["leaderboard", "-t", "stance", "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0 and "stale record(s)" in res.output
    ranked = lb.rerank(lb.load(lb.path_jsonl(mod)), fingerprint(lab))
    assert next(r for r in ranked if r["model"] == "hash-guesser")["stale"] is True
    kept = external_path(mod, "hash-guesser", "stance", "document")
    res = runner.invoke(app, ["score", str(kept), "-t", "stance", "--name", "hash-guesser", "--card", str(scored["card"]),
                              "--no-plots", "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    rec = next(r for r in lb.load(lb.path_jsonl(mod)) if r["model"] == "hash-guesser")
    assert rec["data_fingerprint"] == fingerprint(lab) != fingerprint(scored["labels"])
    assert kept.read_bytes() == scored["preds"].read_bytes()


def test_test_inputs_refuses_a_folder_as_output(trained: tuple[Path, Path], tmp_path: Path) -> None:
    res = runner.invoke(app, ["test-inputs", "-t", "tension", "-o", str(tmp_path), "--labels", str(trained[0])])
    assert res.exit_code == 1 and "is a folder" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("name", ["ext\n", "ext\nx", "a b", ""])
def test_external_names_are_matched_whole(name: str, tmp_path: Path) -> None:
    from bench.scoring.submission import name_problems

    assert name_problems(name, "tension", "document", tmp_path) != []
