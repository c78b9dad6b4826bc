"""Streaming prediction over a JSONL file: constant memory whatever the file's size."""
from __future__ import annotations

import json
import os
import tempfile
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

from . import artifacts
from .features import frame
from .schema import labels_for, load_actors
from .store import labels_dir, models_dir

BATCH = 1000


class InputError(ValueError):
    """A malformed input line, reported as FILE:LINE: field: problem."""


def _records(path: Path, task: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: record: invalid JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise InputError(f"{path}:{n}: text: a non-empty string is required")
            if task == "stance" and not isinstance(obj.get("actor"), str):
                raise InputError(f"{path}:{n}: actor: the stance task needs the actor's id")
            yield n, obj


def predict_file(model: str, task: str, input: str | Path, output: str | Path, split: str = "document",
                 models: str | Path | None = None, labels: str | Path | None = None, batch_size: int = BATCH) -> int:
    """Write each input record with `prediction` (and `probabilities`) added; returns the count.

    The output appears only when every line was read, so a bad line leaves no half-written file.
    """
    est, _ = artifacts.load(artifacts.model_path(models_dir(models), model, task, split))
    actors = load_actors(labels_dir(labels) / "actors.toml")
    input, output = Path(input), Path(output)
    labs = labels_for(task)
    classes = [str(c) for c in getattr(est, "classes_", labs)]
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, suffix=".tmp")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            it = _records(input, task)
            while chunk := list(islice(it, batch_size)):
                objs = [o for _, o in chunk]
                X = frame(objs, task, actors)
                preds = est.predict(X)
                proba = est.predict_proba(X) if hasattr(est, "predict_proba") else None
                for i, obj in enumerate(objs):
                    rec = {**obj, "prediction": str(preds[i])}
                    if proba is not None:
                        rec["probabilities"] = {c: round(float(proba[i][k]), 6) for k, c in enumerate(classes)}
                    out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                count += len(objs)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
