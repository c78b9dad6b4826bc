"""Turning records into model inputs for the three tasks (actors: see `bench.models.actors`).

Stance examples are (sentence, actor) pairs. A model must be able to see which actor it is asked
about, so each example carries the actor id, its bloc, whether the actor is the unnamed speaker,
the text with the actor's mention marked, and a window of words around the mention.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from .schema import Actor, labels_for
from .store import Record

MARK_OPEN, MARK_CLOSE, MARK_SPEAKER = "actorstart", "actorend", "actorspeaker"
"""Plain words, so that every tokenizer (TF-IDF, hashing, embeddings) keeps them."""
WINDOW = 5
_WORD = re.compile(r"\w+", re.UNICODE)
STANCE_COLUMNS = ("id", "text", "marked", "window", "actor", "bloc", "speaker", "doc", "source")
TENSION_COLUMNS = ("id", "text", "doc", "source")


def mark(text: str, mention: str | None) -> tuple[str, str]:
    """(text with the first mention wrapped in markers, words around the mention tagged L_/R_)."""
    if not mention or mention not in text:
        return f"{MARK_SPEAKER} " + text, "self_speaker"
    i = text.index(mention)
    marked = f"{text[:i]} {MARK_OPEN} {mention} {MARK_CLOSE} {text[i + len(mention):]}"
    left = _WORD.findall(text[:i])[-WINDOW:]
    right = _WORD.findall(text[i + len(mention):])[:WINDOW]
    window = " ".join([f"L_{w.lower()}" for w in left] + [f"R_{w.lower()}" for w in right])
    return marked, window or "no_context"


def stance_row(text: str, actor: str, mention: str | None, actors: dict[str, Actor], **extra: Any) -> dict[str, Any]:
    marked, window = mark(text, mention)
    bloc = actors[actor].bloc if actor in actors else "unknown"
    return {"text": text, "marked": marked, "window": window, "actor": actor, "bloc": bloc,
            "speaker": "speaker" if not mention else "named", **extra}


def rows(records: Sequence[Record], task: str, actors: dict[str, Actor]) -> tuple[list[dict[str, Any]], list[str]]:
    """Input rows and gold labels for a task."""
    labels_for(task)
    out, y = [], []
    for r in records:
        if task == "tension":
            out.append({"id": r.id, "text": r["text"], "doc": r["doc"], "source": r.dataset})
            y.append(r["tension"])
            continue
        if task == "actors":
            from ..models.actors import actor_row
            from .tasks import encode_set

            out.append(actor_row(r["text"], r, actors, id=r.id, doc=r["doc"], source=r.dataset))
            y.append(encode_set([st["actor"] for st in r["stances"]]))
            continue
        for st in r["stances"]:
            out.append(stance_row(r["text"], st["actor"], st.get("mention"), actors,
                                  id=f"{r.id}::{st['actor']}", doc=r["doc"], source=r.dataset))
            y.append(st["stance"])
    return out, y


@dataclass
class Examples:
    """Inputs as a DataFrame (what the estimators take), labels, and document groups."""

    X: Any
    y: list[str]
    groups: list[str]

    def __len__(self) -> int:
        return len(self.y)


def examples(records: Sequence[Record], task: str, actors: dict[str, Actor]) -> Examples:
    import pandas as pd

    data, y = rows(records, task, actors)
    cols = {"stance": STANCE_COLUMNS, "tension": TENSION_COLUMNS}.get(task) or _actor_columns()
    X = pd.DataFrame(data, columns=list(cols))
    return Examples(X, y, list(X["doc"]))


def side_examples(records: Sequence[Record], split: str, side: str, task: str, labels: Any) -> Examples:
    """The `task` examples of one side ("train" or "test") of `split`, with the actor registry of the
    labels folder `labels`: what training, evaluation and the benchmarks read."""
    from pathlib import Path

    from . import splits
    from .schema import load_actors

    return examples(splits.select(records, split, side), task, load_actors(Path(labels) / "actors.toml"))


def _actor_columns() -> tuple[str, ...]:
    from ..models.actors import COLUMNS

    return COLUMNS


def find_mention(text: str, actor: str, actors: dict[str, Actor]) -> str | None:
    """For prediction inputs that give no mention: the actor's first name or alias in the text,
    matched on word boundaries (see `bench.data.gazetteer`); None reads as the unnamed speaker."""
    from .gazetteer import gazetteer

    return gazetteer(actors).mention_of(text, actor)


def input_mention(r: dict[str, Any], actors: dict[str, Actor]) -> str | None:
    """The mention of a prediction input: as given; None when the input says the actor is the
    speaker (`"mention": null` or `"speaker_is_actor": true`); otherwise looked up in the text."""
    if r.get("mention"):
        return r["mention"]
    if r.get("speaker_is_actor") or ("mention" in r and r["mention"] is None):
        return None
    return find_mention(r["text"], r["actor"], actors)


def frame(inputs: list[dict[str, Any]], task: str, actors: dict[str, Actor]) -> Any:
    """A DataFrame for prediction from plain input records (`text`, and `actor` for stance).

    Without a `mention`, the actor's names are looked up in the text, unless `speaker_is_actor` is
    true (as in `stance-bench test-inputs` lines): then the actor is the unnamed speaker.
    """
    import pandas as pd

    if task == "stance":
        data = [stance_row(r["text"], r["actor"], input_mention(r, actors), actors) for r in inputs]
    elif task == "actors":
        from ..models.actors import actor_row

        data = [actor_row(r["text"], r, actors) for r in inputs]
    else:
        data = [{"text": r["text"]} for r in inputs]
    return pd.DataFrame(data)
