"""Predictions made outside the project: the test inputs they answer, and scoring them into records.

A researcher with a model we do not host (a fine-tuned transformer, a prompted LLM, another
package) gets the test side without labels (`test_inputs`), answers every line, and hands back a
JSONL file of `{"id", "prediction"[, "probabilities"]}`. `score_predictions` checks the whole file
before anything is written, then builds the same result record an internal model gets (the one
function `evaluation.scored_record`), marked external, and records it with the same ranking. The
file is kept under `models/external/SPLIT/TASK/NAME.jsonl` (tracked in git), so `compare` and a
re-score after the labels change work from a fresh clone.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..data import jsonl
from ..models.artifacts import sha256_file
from .cards import CardError, card_problems, load_card, split_conflict
from ..data.schema import Actor, labels_for, load_actors
from ..data.store import Record, atomic_write, labels_dir, load_records, models_dir

CONTEXT_FIELDS = ("doc", "dataset", "date", "speaker", "speaker_country", "title", "source")
"""Context every input line carries (None where a record does not know it)."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
RESERVED = ("human",)
MAX_BYTES = 100 * 1024 * 1024
MAX_LINE = 1024 * 1024
PROB_TOLERANCE = 1e-3
MAX_SHOWN = 200


def _stance_fields(row: dict[str, Any], rec: Record) -> dict[str, Any]:
    st = next(s for s in rec["stances"] if s["actor"] == row["actor"])
    mention = st.get("mention")
    return {"actor": row["actor"], "bloc": row["bloc"], "mention": mention, "speaker_is_actor": mention is None}


TASK_FIELDS: dict[str, Callable[[dict[str, Any], Record], dict[str, Any]]] = {
    "stance": _stance_fields,
    "tension": lambda row, rec: {},
}
"""What an input line of each task carries besides id, text and context: the one task-specific table."""


class SubmissionError(ValueError):
    """A predictions file, name or card that cannot be scored; every problem as FILE:LINE: field: message."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_SHOWN]
        more = [f"... and {len(problems) - MAX_SHOWN} more problems"] if len(problems) > MAX_SHOWN else []
        super().__init__("\n".join(shown + more))


def input_lines(records: Sequence[Record], task: str, actors: dict[str, Actor]) -> list[dict[str, Any]]:
    """Label-free input lines of a task, in the order and with the ids of the Hugging Face export."""
    from ..data.features import rows

    if task not in TASK_FIELDS:
        raise SubmissionError([f"task: {task!r} has no test inputs (tasks: {', '.join(TASK_FIELDS)})"])
    by_id = {r.id: r for r in records}
    data, _ = rows(records, task, actors)
    out = []
    for row in data:
        rec = by_id[row["id"].split("::")[0]]
        out.append({"id": row["id"], "text": rec["text"], **TASK_FIELDS[task](row, rec),
                    **{f: (rec.dataset if f == "dataset" else rec.get(f)) for f in CONTEXT_FIELDS}})
    return out


def test_inputs(task: str, split: str = "document", labels: str | Path | None = None,
                out: str | Path | None = None) -> list[dict[str, Any]]:
    """The test side of a split without labels, one line per example; written as JSONL to `out` if given."""
    from ..data import splits
    from ..data.outputs import output_file

    lab = labels_dir(labels)

    def lines() -> list[dict[str, Any]]:
        return input_lines(splits.select(load_records(lab), split, "test"), task, load_actors(lab / "actors.toml"))

    if out is None:
        return lines()
    with output_file(out, "the test inputs") as path:  # checked before any work
        made = lines()
        atomic_write(path, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in made))
    return made


@dataclass
class Submission:
    """A validated predictions file: one label (and optionally probabilities) per test id."""

    path: Path
    sha256: str
    prediction: dict[str, str]
    probabilities: dict[str, dict[str, float]]

    def ordered(self, ids: Sequence[str]) -> list[str]:
        return [self.prediction[i] for i in ids]


def line_problems(obj: Any, labels: Sequence[str]) -> list[str]:
    """`field: message` for one parsed prediction line, ids aside (empty when the line is valid)."""
    if not isinstance(obj, dict):
        return ["record: must be a JSON object with id and prediction"]
    out = []
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        out.append("id: a non-empty string is required" if "id" in obj else "id: missing")
    pred = obj.get("prediction")
    if "prediction" not in obj:
        out.append("prediction: missing")
    elif not isinstance(pred, str) or pred not in labels:
        out.append(f"prediction: {pred!r} is not one of {', '.join(labels)}")
    if "probabilities" in obj and obj["probabilities"] is not None:
        out += [f"probabilities: {m}" for m in probability_problems(obj["probabilities"], labels)]
    return out


def probability_problems(probs: Any, labels: Sequence[str]) -> list[str]:
    """Problems of a probabilities object: keys exactly the labels, finite numbers in [0, 1] summing to 1."""
    if not isinstance(probs, dict):
        return ["must be an object mapping each label to a number"]
    missing = [lab for lab in labels if lab not in probs]
    unknown = [k for k in probs if k not in labels]
    if missing or unknown:
        return [f"keys must be exactly {', '.join(labels)}" + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(map(repr, unknown))}" if unknown else "")]
    bad = [k for k, v in probs.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
           or not 0 <= v <= 1]
    if bad:
        return [f"{k!r}: {probs[k]!r} is not a number between 0 and 1" for k in bad]
    total = math.fsum(probs.values())
    if abs(total - 1) > PROB_TOLERANCE:
        return [f"sum to {total:.6g}, not 1 (tolerance {PROB_TOLERANCE})"]
    return []


def read_predictions(path: str | Path, task: str, ids: Sequence[str], what: str = "") -> Submission:
    """Parse and check a predictions file against the test ids; raises SubmissionError listing every problem.

    Every test id exactly once, no unknown or duplicate ids, labels from the task's vocabulary,
    probabilities (optional) keyed by the labels and summing to 1; invalid JSON or UTF-8 and
    oversized files or lines are refused too. `what` names the test side in messages.
    """
    path = Path(path)
    labels = labels_for(task)
    if not path.is_file():
        raise SubmissionError([f"{path}: file: no such predictions file"])
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SubmissionError([f"{path}: file: {size:,} bytes, more than the limit of {MAX_BYTES:,}"])
    wanted = set(ids)
    problems: list[str] = []
    seen: dict[str, int] = {}
    pred: dict[str, str] = {}
    probs: dict[str, dict[str, float]] = {}
    last = 0
    for n, obj, problem in jsonl.read(path, MAX_LINE):
        last = n
        if problem is None and (where := jsonl.surrogate_field(obj)):
            problem = f"{where}: holds a lone surrogate, which is not valid Unicode text"
        if problem is not None:
            problems.append(f"{path}:{n}: {problem}")
            continue
        problems += [f"{path}:{n}: {m}" for m in line_problems(obj, labels)]
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
            continue
        i = obj["id"]
        if i in seen:
            problems.append(f"{path}:{n}: id: {i!r} is given twice (first on line {seen[i]})")
            continue
        seen[i] = n
        if i not in wanted:
            problems.append(f"{path}:{n}: id: {i!r} is not a test id{what}")
            continue
        if isinstance(obj.get("prediction"), str):
            pred[i] = obj["prediction"]
        if isinstance(obj.get("probabilities"), dict):
            probs[i] = obj["probabilities"]
    end = last + 1
    missing = [i for i in ids if i not in seen]
    for i in missing[:20]:
        problems.append(f"{path}:{end}: id: end of file, and no prediction for test id {i!r}")
    if len(missing) > 20:
        problems.append(f"{path}:{end}: id: ... {len(missing) - 20} more test ids have no prediction "
                        f"({len(missing)} of {len(ids)} missing)")
    if problems:
        raise SubmissionError(problems)
    return Submission(path, sha256_file(path), pred, probs)


def external_path(models: str | Path | None, name: str, task: str, split: str) -> Path:
    """Where the predictions of an external row are kept (tracked in git)."""
    return models_dir(models) / "external" / split / task / f"{name}.jsonl"


def name_problems(name: str, task: str, split: str, models: str | Path | None) -> list[str]:
    """Why `name` cannot label an external row: bad characters, or the name of a model of ours."""
    from . import leaderboard as lb
    from ..models.registry import names

    if not NAME.fullmatch(name or ""):
        return [f"name: {name!r} must be 1-64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit"]
    if name in RESERVED or name in names():
        return [f"name: {name!r} is the name of a model of this benchmark: choose another name (e.g. {name + '-ext'!r})"]
    taken = {r["model"] for r in lb.load(lb.path_jsonl(models_dir(models))) if not r.get("external")}
    if name in taken:
        return [f"name: {name!r} already names a leaderboard row of a model of this benchmark: choose another name"]
    return []


def _card(card: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    if card is None or isinstance(card, dict):
        problems = card_problems(card) if card is not None else []
        if problems:
            raise CardError([f"card: {p}" for p in problems])
        return card
    return load_card(card)


def score_predictions(path: str | Path, task: str, split: str = "document", name: str = "",
                      card: str | Path | dict[str, Any] | None = None, labels: str | Path | None = None,
                      models: str | Path | None = None, record: bool = True, plots: bool = True) -> dict[str, Any]:
    """Score a predictions file like an internal model; record it on the leaderboard unless `record=False`.

    Everything is checked first (name, card, every line); on any problem a SubmissionError or
    CardError lists them all and nothing is written. The record is `evaluation.scored_record` plus
    `external: true`, the card, the file's sha256 and where the copy is kept.
    """
    from ..data import splits
    from .evaluation import scored_record, signature
    from ..data.features import examples

    if task not in TASK_FIELDS:  # the actors task takes sets of actors, not one label per line
        raise SubmissionError([f"task: {task!r} does not take external predictions yet (tasks: {', '.join(TASK_FIELDS)})"])
    from ..data.store import fingerprint

    problems = name_problems(name, task, split, models)
    if problems:
        raise SubmissionError(problems)
    c = _card(card)
    conflict = split_conflict(c, split)
    if conflict:
        raise CardError([f"{card}: {conflict}" if isinstance(card, (str, Path)) else f"card: {conflict}"])
    lab = labels_dir(labels)
    records = load_records(lab)
    test = splits.select(records, split, "test")
    ex = examples(test, task, load_actors(lab / "actors.toml"))
    ids = list(ex.X["id"])
    sub = read_predictions(path, task, ids, f" of the {task} task on the {split} split")
    fp = fingerprint(lab)
    rec = scored_record(task, split, name, ex, sub.ordered(ids), fp)
    keep = external_path(models, name, task, split)
    rec.update({"external": True, "card": c, "predictions_sha256": sub.sha256,
                "predictions_file": keep.relative_to(models_dir(models)).as_posix(),
                "split_rule": splits.describe(records, split), "seed": None, "params": {},
                "has_probabilities": len(sub.probabilities) == len(ids)})
    rec["signature"] = signature(rec)
    if record:
        from .recording import record_results

        raw = Path(path).read_bytes()
        if not keep.exists() or keep.read_bytes() != raw:
            keep.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(keep, raw)
        record_results([rec], lab, models, plots)
    return rec


def model_predictions(name: str, task: str, split: str, ex: Any, labels: str | Path | None = None,
                      models: str | Path | None = None) -> list[str]:
    """A model's test predictions: from the registry's trained model, or from an external row's stored file."""
    from ..models.artifacts import ModelError
    from .evaluation import predict_test
    from ..models.registry import names

    if name in names():
        return predict_test(name, task, split, labels, models, ex, reuse=True).y_pred
    found = external_predictions(name, task, split, list(ex.X["id"]), models)
    if found is None:
        from ..models.registry import require

        try:
            require(name, task)  # raises the registry's own message for an unknown name
        except ModelError as exc:
            raise type(exc)(f"{exc}; nor is it an external row of the {task} task on the {split} split "
                            f"(stance-bench score FILE --name NAME adds one)") from None
    assert found is not None
    return found


def external_predictions(name: str, task: str, split: str, ids: Sequence[str],
                         models: str | Path | None = None) -> list[str] | None:
    """An external row's kept predictions in the order of `ids` (None if there is no such row).

    Raises SubmissionError when the kept file no longer answers the test side (the labels changed).
    """
    keep = external_path(models, name, task, split)
    if not NAME.fullmatch(name) or not keep.exists():
        return None
    ids = list(ids)
    try:
        return read_predictions(keep, task, ids, f" of the {task} task on the {split} split").ordered(ids)
    except SubmissionError as exc:
        raise SubmissionError([f"the stored predictions of {name!r} no longer answer the current test side "
                               "(the labels changed): obtain predictions for the new test inputs and score them again",
                               *exc.problems]) from None


def external_card(name: str, task: str, split: str, models: str | Path | None = None) -> dict[str, Any] | None:
    """The card of an external row from the leaderboard records (None if none or no card)."""
    from . import leaderboard as lb

    for r in lb.load(lb.path_jsonl(models_dir(models))):
        if r.get("external") and (r["model"], r["task"], r["split"]) == (name, task, split):
            return r.get("card")
    return None
