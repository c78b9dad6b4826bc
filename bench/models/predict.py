"""Streaming prediction over a JSONL file: constant memory whatever the file's size."""
from __future__ import annotations

import json
import os
import tempfile
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterator

from . import artifacts, fastvec
from ..data import jsonl
from ..data.features import frame
from ..data.outputs import output_file
from ..data.schema import MAX_TEXT_CHARS, labels_for, load_actors, string_problem, suggest_actors
from ..data.store import labels_dir, models_dir

BATCH = 1000
PARALLEL_BYTES = 16 << 20
"""Inputs larger than this (about 65,000 stance lines) are scored in worker processes by default.
A spawned worker imports scikit-learn and unpickles the model before its first batch (seconds),
while one process scores some 5,000-8,000 stance rows a second (#10). Measured on an idle machine:
10 MB, one process 4.8-4.9 s, two workers 5.4 s; 25 MB, one process 11.0-12.5 s, two workers
8.8-9.1 s."""


class InputError(ValueError):
    """A malformed input line, reported as FILE:LINE: field: problem."""


def check_input(path: Path) -> None:
    if path.is_dir():
        raise InputError(f"{path}: is a folder: give the JSONL file to read")
    if not path.is_file():
        raise InputError(f"{path}: no such input file")


def _records(path: Path, task: str, actors: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    check_input(path)
    with open(path, "rb") as fh:
        for line in jsonl.iter_lines(fh):
            n, (obj, bad) = line.number, jsonl.parse(line)
            if bad:
                raise InputError(f"{path}:{n}: {bad}")
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{n}: record: must be a JSON object with a text field")
            if not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise InputError(f"{path}:{n}: text: a non-empty string is required")
            if bad := string_problem(obj["text"], MAX_TEXT_CHARS):
                raise InputError(f"{path}:{n}: text: {bad}")
            if "\\u" in line.text and (where := jsonl.surrogate_field(obj)):
                raise InputError(f"{path}:{n}: {where}: holds a lone surrogate, which is not valid Unicode text")
            if task == "stance":
                actor, mention = obj.get("actor"), obj.get("mention")
                if not isinstance(actor, str):
                    raise InputError(f"{path}:{n}: actor: the stance task needs the actor's id")
                if actor not in actors:
                    hint = suggest_actors(actor, actors)
                    raise InputError(f"{path}:{n}: actor: unknown actor {actor!r}" + (f" (did you mean {', '.join(hint)}?)" if hint else ""))
                if mention is not None and (not isinstance(mention, str) or mention not in obj["text"]):
                    raise InputError(f"{path}:{n}: mention: {mention!r} is not a substring of text")
            yield n, obj


class Scorer:
    """Predictions and probabilities of a fitted model for one batch, with its features built once.

    A Pipeline's transformers run once per batch and both `predict` and `predict_proba` of the final
    step read the same matrix (calling `predict` and `predict_proba` on the pipeline would build the
    features twice); text vectorizers go through `bench.models.fastvec` (each distinct text once,
    char n-grams counted without scikit-learn's per-n-gram loop, the identical matrix); other
    estimators are called as they are.
    """

    def __init__(self, est: Any, task: str, actors: dict[str, Any]) -> None:
        self.est, self.task, self.actors = est, task, actors
        steps = getattr(est, "steps", None)
        self.head, self.tail = (est[:-1], est[-1]) if steps and len(steps) > 1 else (None, est)

    def __call__(self, objs: list[dict[str, Any]]) -> tuple[list[str], Any]:
        return self.frame(frame(objs, self.task, self.actors))

    def frame(self, X: Any) -> tuple[list[str], Any]:
        """(predictions, probabilities or None) for a DataFrame of model inputs."""
        Xt = fastvec.features(self.head, X) if self.head is not None else X
        preds = [str(p) for p in self.tail.predict(Xt)]
        proba = self.tail.predict_proba(Xt) if hasattr(self.tail, "predict_proba") else None
        return preds, proba


_worker: Scorer | None = None


def _init_worker(scorer: Scorer) -> None:
    global _worker
    _worker = scorer


def _score_in_worker(objs: list[dict[str, Any]]) -> tuple[list[str], Any]:
    assert _worker is not None
    return _worker(objs)


def _scored(scorer: Scorer, batches: Iterator[list[dict[str, Any]]], workers: int) -> Iterator[tuple[list[dict[str, Any]], tuple[list[str], Any]]]:
    """(batch, its predictions) in input order; with `workers` > 1 the batches are scored in that many
    processes while this one reads and writes, with at most two batches per worker in flight (bounded memory)."""
    from itertools import chain

    head = list(islice(batches, 2))
    if workers <= 1 or len(head) < 2:  # one batch: not worth starting processes
        for b in chain(head, batches):
            yield b, scorer(b)
        return
    import multiprocessing as mp
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    # spawn: no fork of a process that may run a progress-bar thread
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                             initargs=(scorer,)) as pool:
        pending: deque = deque()
        for b in chain(head, batches):
            if len(pending) >= 2 * workers:
                done, fut = pending.popleft()
                yield done, fut.result()
            pending.append((b, pool.submit(_score_in_worker, b)))
        while pending:
            done, fut = pending.popleft()
            yield done, fut.result()


def count_lines(path: str | Path) -> int:
    """Lines in a file, read in binary chunks (for a progress total)."""
    n = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


def predict_file(model: str, task: str, input: str | Path, output: str | Path, split: str = "document",
                 models: str | Path | None = None, labels: str | Path | None = None, batch_size: int = BATCH,
                 workers: int | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Write each input record with `prediction` (and `probabilities`) added; returns the count.

    The output appears only when every line was read, so a bad line leaves no half-written file.
    Batches are scored in `workers` processes (default: one per core, two at most, for inputs over
    PARALLEL_BYTES); `progress` is called with the number of records written so far.
    """
    from .registry import require

    require(model, task)
    est, _ = artifacts.load(artifacts.model_path(models_dir(models), model, task, split))
    actors = load_actors(labels_dir(labels) / "actors.toml")
    input, output = Path(input), Path(output)
    check_input(input)
    labs = labels_for(task)
    classes = [str(c) for c in getattr(est, "classes_", labs)]
    if workers is None:  # starting processes takes a second or two: worth it for inputs of thousands of lines
        workers = min(2, os.cpu_count() or 1) if input.is_file() and input.stat().st_size > PARALLEL_BYTES else 1
    with output_file(output, "the predictions"):
        return _write_predictions(est, task, input, output, actors, classes, batch_size, workers, progress)


def _write_predictions(est: Any, task: str, input: Path, output: Path, actors: dict[str, Any], classes: list[str],
                       batch_size: int, workers: int, progress: Callable[[int], None] | None) -> int:
    labs = labels_for(task)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            it = _records(input, task, actors)
            batches = iter(lambda: [o for _, o in islice(it, batch_size)], [])
            for objs, (preds, proba) in _scored(Scorer(est, task, actors), batches, workers):
                for i, obj in enumerate(objs):
                    rec = {**obj, "prediction": preds[i]}
                    if proba is not None:
                        p = dict(zip(classes, proba[i]))
                        rec["probabilities"] = {c: round(float(p.get(c, 0.0)), 6) for c in labs}
                    out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                count += len(objs)
                if progress is not None:
                    progress(count)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
