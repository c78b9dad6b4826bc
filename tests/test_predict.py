from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from bench.models.predict import InputError, predict_file

from .conftest import read


def test_predicts_every_line_with_probabilities(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    rows = [{"text": "The alliance agreed to deepen cooperation with Moscow.", "id": i} for i in range(25)]
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    n = predict_file("tfidf-lr", "tension", inp, tmp_path / "out.jsonl", labels=lab, models=mod, batch_size=7)
    out = read(tmp_path / "out.jsonl")
    assert n == 25 and [o["id"] for o in out] == list(range(25))
    for o in out:
        assert o["prediction"] in ("low", "medium", "high")
        assert sum(o["probabilities"].values()) == pytest.approx(1, abs=1e-4)


def test_stance_input_needs_an_actor_and_bad_lines_leave_no_output(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "Russia objected.", "actor": "RUS"}) + "\n" + json.dumps({"text": "No actor here."}) + "\n")
    with pytest.raises(InputError, match=r"in.jsonl:2: actor"):
        predict_file("tfidf-lr", "stance", inp, tmp_path / "out.jsonl", labels=lab, models=mod)
    assert not (tmp_path / "out.jsonl").exists()


def test_streaming_memory_does_not_grow_with_the_file(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    line = json.dumps({"text": "NATO ministers discussed the Russian deployments on the border.", "actor": "NATO"}) + "\n"
    peaks = []
    for n in (2000, 8000):
        inp = tmp_path / f"in{n}.jsonl"
        inp.write_text(line * n)
        tracemalloc.start()
        predict_file("majority", "stance", inp, tmp_path / f"out{n}.jsonl", labels=lab, models=mod, batch_size=500)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 2  # four times the input, far less than four times the memory


def test_unknown_actor_and_stray_mention_are_refused(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "Russia objected.", "actor": "RUSSIA"}) + "\n")
    with pytest.raises(InputError, match=r"in.jsonl:1: actor: unknown actor 'RUSSIA' \(did you mean RUS"):
        predict_file("tfidf-lr", "stance", inp, tmp_path / "out.jsonl", labels=lab, models=mod)
    inp.write_text(json.dumps({"text": "Russia objected.", "actor": "RUS", "mention": "Kremlin"}) + "\n")
    with pytest.raises(InputError, match="mention: 'Kremlin' is not a substring"):
        predict_file("tfidf-lr", "stance", inp, tmp_path / "out.jsonl", labels=lab, models=mod)
    inp.write_text("[1, 2]\n")
    with pytest.raises(InputError, match="must be a JSON object"):
        predict_file("tfidf-lr", "tension", inp, tmp_path / "out.jsonl", labels=lab, models=mod)


def test_probabilities_follow_the_label_order(trained: tuple[Path, Path], tmp_path: Path) -> None:
    from bench.data.schema import STANCES

    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "NATO agreed to talks with Moscow.", "actor": "NATO"}) + "\n")
    predict_file("tfidf-lr", "stance", inp, tmp_path / "out.jsonl", labels=lab, models=mod)
    assert list(read(tmp_path / "out.jsonl")[0]["probabilities"]) == list(STANCES)


GOOD_LINE = json.dumps({"text": "NATO ministers discussed the deployments.", "actor": "NATO"}).encode() + b"\n"


@pytest.mark.parametrize("content, message", [
    (GOOD_LINE + b'{"text": "' + b"x" * 10_000_000 + b'"}\n', ":2: record: the line is longer than 100,000 bytes"),
    (GOOD_LINE + json.dumps({"text": "NATO " + "x" * 5_000, "actor": "NATO"}).encode() + b"\n", ":2: text: is 5,005 characters long"),
    (GOOD_LINE + b'{"text": "NATO \xff"}\n', ":2: record: invalid UTF-8"),
    (b"\xef\xbb\xbf" + GOOD_LINE, ":1: record: the file starts with a byte-order mark"),
    (GOOD_LINE + b'{"text": "NATO \\ud800 met.", "actor": "NATO"}\n', ":2: text: holds a lone surrogate"),
    (GOOD_LINE + b'{"text": "NATO met.", "actor": "NATO", "note": ["\\udfff"]}\n', ":2: note[0]: holds a lone surrogate"),
    (GOOD_LINE + b'{"text": "NATO met.", "actor": "NATO", "\\ud800": 1}\n', ":2: \\ud800: holds a lone surrogate"),
    (GOOD_LINE + b'{"text": "NATO\\u0000 met.", "actor": "NATO"}\n', ":2: text: holds the control character"),
    (GOOD_LINE.replace(b"\n", b"\r\n") + b"\x00\r\n", ":2: record: invalid JSON"),
])
def test_unreadable_input_lines_are_refused_while_streaming(trained: tuple[Path, Path], tmp_path: Path,
                                                           content: bytes, message: str) -> None:
    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(content)
    tracemalloc.start()
    with pytest.raises(InputError) as err:
        predict_file("majority", "stance", inp, tmp_path / "out" / "out.jsonl", labels=lab, models=mod)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(err.value).startswith(f"{inp}{message}") and "\n" not in str(err.value), str(err.value)
    assert peak < 3_000_000  # a 10 MB line is never held in memory, let alone parsed
    assert not (tmp_path / "out" / "out.jsonl").exists()


def test_crlf_input_is_read(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(GOOD_LINE.replace(b"\n", b"\r\n") * 3)
    assert predict_file("majority", "stance", inp, tmp_path / "out.jsonl", labels=lab, models=mod) == 3


def test_worker_processes_write_what_the_model_predicts(trained: tuple[Path, Path], tmp_path: Path) -> None:
    """Two scoring processes, features built once per batch: the same lines as the plain estimator gives."""
    from bench.models import artifacts
    from bench.data.features import frame
    from bench.data.schema import load_actors

    lab, mod = trained
    texts = ["NATO warned Russia over the troops on the border.", "Estonia welcomed the new cooperation with Finland.",
             "Moscow said the alliance's expansion was a threat.", "The talks in Geneva were calm and constructive."]
    rows = [{"text": texts[i % 4], "actor": ["NATO", "EST", "RUS", "USA"][i % 4], "n": i} for i in range(30)]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    seen: list[int] = []
    for workers in (1, 2):
        predict_file("tfidf-lr", "stance", inp, tmp_path / f"out{workers}.jsonl", labels=lab, models=mod, batch_size=4,
                     workers=workers, progress=seen.append)
    assert (tmp_path / "out1.jsonl").read_text() == (tmp_path / "out2.jsonl").read_text()
    assert seen == [4, 8, 12, 16, 20, 24, 28, 30] * 2  # progress after every batch, both runs
    est, _ = artifacts.load(artifacts.model_path(mod, "tfidf-lr", "stance", "document"))
    X = frame(rows, "stance", load_actors(lab / "actors.toml"))
    out = read(tmp_path / "out2.jsonl")
    assert [o["prediction"] for o in out] == [str(p) for p in est.predict(X)]
    assert [o["n"] for o in out] == list(range(30))
    proba = est.predict_proba(X)
    for o, p in zip(out, proba):
        assert [o["probabilities"][c] for c in est.classes_] == pytest.approx(list(p), abs=1e-6)


def test_fast_features_write_exactly_what_the_pipeline_predicts_on_real_rows(trained: tuple[Path, Path], tmp_path: Path) -> None:
    """The real stance inputs (each sentence once per actor, no mention): the same predictions and the
    same rounded probabilities as scikit-learn's own `predict` and `predict_proba` on the pipeline."""
    from bench.models import artifacts
    from bench.data.features import frame
    from bench.data.schema import load_actors, labels_for

    lab, mod = trained
    recs = [json.loads(line) for p in sorted(lab.glob("*.jsonl")) for line in p.read_text().splitlines()]
    rows = [{"text": r["text"], "actor": st["actor"]} for r in recs for st in r["stances"]][:600]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    predict_file("tfidf-lr", "stance", inp, tmp_path / "out.jsonl", labels=lab, models=mod, batch_size=250, workers=1)
    est, _ = artifacts.load(artifacts.model_path(mod, "tfidf-lr", "stance", "document"))
    X = frame(rows, "stance", load_actors(lab / "actors.toml"))
    out = read(tmp_path / "out.jsonl")
    assert [o["prediction"] for o in out] == [str(p) for p in est.predict(X)]
    classes = [str(c) for c in est.classes_]
    want = [{c: round(float(dict(zip(classes, p)).get(c, 0.0)), 6) for c in labels_for("stance")} for p in est.predict_proba(X)]
    assert [o["probabilities"] for o in out] == want
