"""Counts over the label store (what `stance-bench stats` prints)."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from . import splits
from .schema import STANCES, TENSIONS, load_actors, year_of
from .pool import load_pool
from .store import fingerprint, jsonl_lines, labels_dir, load_records


def _count_lines(path: Path) -> int:
    return len(jsonl_lines(path)) if path.exists() else 0


def source_name(source: str) -> str:
    """The publication a `source` string names, without the mirror it was read from."""
    return re.split(r",? via |\s\(", source, maxsplit=1)[0]


def summary(labels: str | Path | None = None, split: str = "document") -> dict[str, Any]:
    lab = labels_dir(labels)
    records = load_records(lab)
    actors = load_actors(lab / "actors.toml")
    side = splits.assign(records, split)
    zero = lambda: {"sentences": 0, "stances": 0, "train": 0, "test": 0}  # noqa: E731
    by_dataset: dict[str, dict[str, int]] = defaultdict(zero)
    by_decade: dict[str, dict[str, int]] = defaultdict(zero)
    labels_count = {"tension": {t: {"train": 0, "test": 0} for t in TENSIONS},
                    "stance": {s: {"train": 0, "test": 0} for s in STANCES}}
    per_actor: dict[str, Counter] = defaultdict(Counter)
    by_source: Counter = Counter()
    by_selection: Counter = Counter()
    for r in records:
        s = side.get(r.id)
        y = year_of(r.get("date"))
        decade = f"{y // 10 * 10}s" if y else "undated"
        for bucket in (by_dataset[r.dataset], by_decade[decade]):
            bucket["sentences"] += 1
            bucket["stances"] += len(r["stances"])
            if s:
                bucket[s] += 1
        if s:
            labels_count["tension"][r["tension"]][s] += 1
        for st in r["stances"]:
            per_actor[st["actor"]][st["stance"]] += 1
            if s:
                labels_count["stance"][st["stance"]][s] += 1
        by_source[source_name(r["source"])] += 1
        by_selection[r.get("selected_by", "not recorded").split(":")[0]] += 1
    actor_rows = {}
    for a, c in sorted(per_actor.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        actor_rows[a] = {"name": actors[a].name, "bloc": actors[a].bloc, **{k: c.get(k, 0) for k in STANCES}, "all": sum(c.values())}
    return {
        "sentences": len(records), "stances": sum(len(r["stances"]) for r in records),
        "documents": len({r["doc"] for r in records}), "fingerprint": fingerprint(lab), "split": split,
        "by_dataset": dict(sorted(by_dataset.items())), "by_decade": dict(sorted(by_decade.items())),
        "labels": labels_count, "actors": actor_rows, "by_source": dict(by_source.most_common()),
        "by_selection": dict(by_selection.most_common()),
        "skipped": _count_lines(lab / "pool" / "skipped.jsonl"), "unlabelled": len(load_pool(lab)),
    }
