"""Pointing the benchmark's models at new text: who takes which stance, and how tense is it?

`annotate` reads raw sentences (JSONL or CSV with a `text` column and optional context such as
`speaker`, `speaker_country`, `date`, `source`) or plain-text documents (split into sentences by
`bench.data.sentences`), finds the actors that take a stance (actors model), predicts each one's stance
(stance model, with the mention the actors model found marked; the speaker's country when the
sentence speaks in the first person) and the sentence's tension, and writes one JSON line per
sentence. It reads and writes in batches, so memory stays bounded whatever the input's size, and
the output appears only when the whole input was read (a bad line leaves no half-written file).

Output line: the input's `id` and context fields and `text`, plus
`"tension"`, `"tension_probabilities"` and `"actors": [{"actor", "mention", "stance", "probabilities"}]`
(`mention` is null when the actor is the unnamed speaker). This is the input of `postures --predictions`.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterator

from ..models import artifacts
from ..data.features import frame
from ..models.predict import InputError, _records as jsonl_inputs
from ..data.schema import MAX_TEXT_CHARS, labels_for, load_actors, string_problem
from ..data.store import fingerprint, labels_dir, models_dir

BATCH = 256
FALLBACK = {"stance": "tfidf-lr", "tension": "tfidf-lr", "actors": "actor-filter"}
"""Models used when the leaderboard has no current leader for a task."""
CONTEXT_FIELDS = ("doc", "date", "speaker", "speaker_country", "title", "source", "url")


def leader(task: str, split: str = "document", labels: str | Path | None = None, models: str | Path | None = None) -> str:
    """The best-ranked model of a task on the leaderboard (current data only) that can run here, else the fallback.

    External rows (predictions made elsewhere) cannot annotate new text, and a model needs its extra
    installed and a trained file, so the first such model in rank order is taken.
    """
    from ..models import artifacts, registry
    from ..scoring import leaderboard as lb
    from ..data.tasks import TASK_SPECS

    mod = models_dir(models)
    path = lb.path_jsonl(mod)
    records = lb.rerank(lb.load(path), fingerprint(labels)) if path.exists() else []
    primary = TASK_SPECS[task].primary
    rows = sorted((r for r in records if r["task"] == task and r["split"] == split and not r.get("stale")
                   and r.get("rank") is not None and not r.get("external")),
                  key=lambda r: (r["rank"], -r["metrics"][primary]["value"], r["model"]))
    for r in rows:
        name = r["model"]
        if name in registry.REGISTRY and registry.available(name) and artifacts.model_path(mod, name, task, split).exists():
            return name
    return FALLBACK[task]


def _csv_inputs(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if "text" not in (reader.fieldnames or []):
            raise InputError(f"{path}:1: text: the CSV header needs a text column")
        for row in reader:
            n = reader.line_num
            text = row.get("text")
            if not text or not text.strip():
                raise InputError(f"{path}:{n}: text: a non-empty string is required")
            if bad := string_problem(text, MAX_TEXT_CHARS):
                raise InputError(f"{path}:{n}: text: {bad}")
            yield n, {k: v for k, v in row.items() if k and v not in (None, "")}


def _text_inputs(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """A plain-text document: sentences with ids `STEM-N` and `doc` = the file's stem."""
    from ..data.sentences import split_stream

    try:
        with open(path, encoding="utf-8") as fh:
            for n, sentence in enumerate(split_stream(fh), 1):
                yield n, {"id": f"{path.stem}-{n}", "doc": path.stem, "text": sentence}
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}:1: record: invalid UTF-8 (byte {exc.start + 1}): save the file as UTF-8") from None


def read_inputs(path: str | Path, actors: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Input sentences with their context, by file type: .jsonl, .csv, anything else as plain text."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder: give a JSONL, CSV or plain-text file")
    if not path.is_file():
        raise InputError(f"{path}: no such input file")
    suffix = path.suffix.lower()
    rows = (jsonl_inputs(path, "tension", actors) if suffix == ".jsonl" else
            _csv_inputs(path) if suffix == ".csv" else _text_inputs(path))
    for n, obj in rows:
        obj.setdefault("id", f"{path.stem}-{n}")
        obj.setdefault("doc", path.stem)
        yield obj


def _probabilities(est: Any, X: Any, task: str) -> tuple[list[str], list[dict[str, float]]]:
    """Predictions and probabilities in the task's label order (features built once: `Scorer`)."""
    from ..models.predict import Scorer

    labs = labels_for(task)
    preds, proba = Scorer(est, task, {}).frame(X)
    if proba is None:
        return preds, [{c: float(c == p) for c in labs} for p in preds]
    classes = [str(c) for c in est.classes_]
    return preds, [{c: round(float(dict(zip(classes, row)).get(c, 0.0)), 6) for c in labs} for row in proba]


def annotate_batch(objs: list[dict[str, Any]], est: dict[str, Any], actors: dict[str, Any]) -> list[dict[str, Any]]:
    """Annotated output records for a batch of input sentences (see the module docstring)."""
    from ..data.tasks import decode_set

    X = frame(objs, "actors", actors)
    chosen = [decode_set(v) for v in est["actors"].predict(X)]
    pairs = [(i, a, m) for i, (cands, keep) in enumerate(zip(X["candidates"], chosen))
             for a, m, *_ in cands if a in keep]
    stance_in = [{"text": objs[i]["text"], "actor": a, "mention": m} for i, a, m in pairs]
    stances = _probabilities(est["stance"], frame(stance_in, "stance", actors), "stance") if stance_in else ([], [])
    tension, t_proba = _probabilities(est["tension"], frame(objs, "tension", actors), "tension")
    out = [{**obj, "tension": tension[i], "tension_probabilities": t_proba[i], "actors": []} for i, obj in enumerate(objs)]
    for (i, a, m), s, p in zip(pairs, *stances):
        out[i]["actors"].append({"actor": a, "mention": m, "stance": s, "probabilities": p})
    return out


@contextlib.contextmanager
def _replacing(output: Path) -> Iterator[Any]:
    """A text stream to a temporary file that replaces `output` only when the block succeeds."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def annotate(input: str | Path, output: str | Path, stance_model: str | None = None, tension_model: str | None = None,
             actors_model: str | None = None, split: str = "document", labels: str | Path | None = None,
             models: str | Path | None = None, batch_size: int = BATCH,
             progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Annotate every sentence of `input` into `output` (JSONL); returns the counts and models used.

    Models default to the leaderboard's current leaders of the split (else tfidf-lr, actor-filter).
    `progress(n)` is called after each batch with the number of sentences written so far.
    """
    from ..models.registry import require

    chosen = {"stance": stance_model, "tension": tension_model, "actors": actors_model}
    est = {}
    for task, name in chosen.items():
        name = chosen[task] = name or leader(task, split, labels, models)
        require(name, task)
        est[task], _ = artifacts.load(artifacts.model_path(models_dir(models), name, task, split))
    actors = load_actors(labels_dir(labels) / "actors.toml")
    count = n_actors = 0
    with _replacing(Path(output)) as out:
        it = read_inputs(input, actors)
        while batch := list(islice(it, batch_size)):
            for rec in annotate_batch(batch, est, actors):
                n_actors += len(rec["actors"])
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            count += len(batch)
            if progress:
                progress(count)
    return {"sentences": count, "actors": n_actors, "models": chosen, "split": split, "output": str(output)}
