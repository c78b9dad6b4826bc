"""Streaming prediction over a JSONL file: constant memory whatever the file's size."""
from __future__ import annotations

import json
import os
import tempfile
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

from . import artifacts, jsonl
from .features import frame
from .schema import MAX_TEXT_CHARS, labels_for, load_actors, string_problem, suggest_actors
from .store import labels_dir, models_dir

BATCH = 1000


class InputError(ValueError):
    """A malformed input line, reported as FILE:LINE: field: problem."""


def _records(path: Path, task: str, actors: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise InputError(f"{path}: no such input file")
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


def predict_file(model: str, task: str, input: str | Path, output: str | Path, split: str = "document",
                 models: str | Path | None = None, labels: str | Path | None = None, batch_size: int = BATCH) -> int:
    """Write each input record with `prediction` (and `probabilities`) added; returns the count.

    The output appears only when every line was read, so a bad line leaves no half-written file.
    """
    from .models import require

    require(model, task)
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
            it = _records(input, task, actors)
            while chunk := list(islice(it, batch_size)):
                objs = [o for _, o in chunk]
                X = frame(objs, task, actors)
                preds = est.predict(X)
                proba = est.predict_proba(X) if hasattr(est, "predict_proba") else None
                for i, obj in enumerate(objs):
                    rec = {**obj, "prediction": str(preds[i])}
                    if proba is not None:
                        p = dict(zip(classes, proba[i]))
                        rec["probabilities"] = {c: round(float(p.get(c, 0.0)), 6) for c in labs}
                    out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                count += len(objs)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
