"""Adding hand-labelled sentences to the store (what `stance-bench add` calls)."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable, Sequence

from ..data.schema import load_actors, suggest_actors
from ..data.store import append_records, labels_dir


class ArgumentError(ValueError):
    """A malformed ACTOR=STANCE or ACTOR=MENTION argument, or an unknown actor."""


def _pairs(items: Sequence[str], what: str, value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ArgumentError(f"--{what} {item!r}: expected ACTOR={value}, e.g. RUS=" + ("cautious" if value == "STANCE" else "Moscow"))
        key, val = item.split("=", 1)
        key, val = key.strip(), val.strip()
        if key in out:
            raise ArgumentError(f"--{what} {item!r}: {key} is given twice")
        out[key] = val
    return out


def record_id(prefix: str, text: str) -> str:
    """A stable id from the sentence (white space folded): the same sentence always gets the same id."""
    return f"{prefix}-" + hashlib.sha256(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()[:12]


def make_record(text: str, *, tension: str, doc: str, source: str, license: str, actors: Sequence[str] = (),
                mentions: Sequence[str] = (), id: str | None = None, date: str | None = None,
                speaker: str | None = None, url: str | None = None, labels: str | Path | None = None,
                id_prefix: str = "user") -> dict[str, Any]:
    """A record from command-line style arguments; unknown actors get close matches from the registry."""
    registry = load_actors(labels_dir(labels) / "actors.toml")
    stances = _pairs(actors, "actor", "STANCE")
    mention_of = _pairs(mentions, "mention", "MENTION")
    for a in [*stances, *mention_of]:
        if a not in registry:
            hint = suggest_actors(a, registry)
            raise ArgumentError(f"unknown actor {a!r}" + (f"; did you mean {', '.join(hint)}?" if hint else "")
                                + " (the registry is labels/actors.toml)")
    for a in mention_of:
        if a not in stances:
            raise ArgumentError(f"--mention {a}=...: {a} has no --actor {a}=STANCE")
    rec: dict[str, Any] = {
        "id": id or record_id(id_prefix, text),
        "text": text, "doc": doc, "tension": tension,
        "stances": [{"actor": a, "stance": s, **({"mention": mention_of[a]} if a in mention_of else {})}
                    for a, s in stances.items()],
        "source": source,
    }
    for k, v in (("date", date), ("speaker", speaker), ("url", url)):
        if v is not None:
            rec[k] = v
    rec["license"] = license
    return rec


def add_sentence(text: str, *, dataset: str = "user", labels: str | Path | None = None, lock_timeout: float | None = None,
                 on_wait: Callable[[Path], None] | None = None, **kwargs: Any) -> tuple[dict[str, Any], Path]:
    """Validate and append one sentence; on any problem nothing on disk changes.

    `on_wait(lock file)` is called if another writer holds the labels lock (see `store.append_records`)."""
    rec = make_record(text, labels=labels, id_prefix=dataset, **kwargs)
    return rec, append_records(dataset, [rec], labels, lock_timeout, on_wait)
