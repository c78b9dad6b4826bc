"""The leaderboard file: result records in `models/leaderboard.jsonl`, Markdown rendered from them.

Records made on another data fingerprint are never ranked with current ones (they are listed as
stale until re-run); re-evaluating a model replaces its record for that fingerprint.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterable

from ..data import jsonl
from ..data.markdown import escape as md_escape
from ..data.splits import SPLITS
from ..data.store import atomic_write
from ..data.tasks import TASK_SPECS

HUMAN = "human"
FLOOR = "majority"


def path_jsonl(models: Path) -> Path:
    return Path(models) / "leaderboard.jsonl"


def path_md(models: Path) -> Path:
    return Path(models) / "LEADERBOARD.md"


MAX_RECORD_BYTES = 10_000_000
"""Longest leaderboard line read; real records are some 25 kB (per-document counts)."""
RECORD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "task": str, "split": str, "model": str, "data_fingerprint": str, "metrics": dict, "n_test": int,
    "confusion": dict, "doc_confusion": dict,
}


class LeaderboardError(ValueError):
    """A leaderboard line that cannot be read: `FILE:LINE: record: ...` and how to repair it."""


def _record_problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return "record: must be a JSON object"
    for name, typ in RECORD_FIELDS.items():
        if not isinstance(obj.get(name), typ) or isinstance(obj.get(name), bool):
            return f"{name}: is missing or not a {getattr(typ, '__name__', typ)}"
    if obj["task"] not in TASK_SPECS:
        return f"task: {obj['task']!r} is not one of {', '.join(TASK_SPECS)}"
    primary = TASK_SPECS[obj["task"]].primary
    m = obj["metrics"].get(primary)
    if not isinstance(m, dict) or not all(isinstance(m.get(k), (int, float)) for k in ("value", "ci_low", "ci_high")):
        return f"metrics: {primary} needs numeric value, ci_low and ci_high"
    if not isinstance(obj["confusion"].get("labels"), list) or not isinstance(obj["doc_confusion"].get("counts"), list):
        return "confusion: needs confusion.labels and doc_confusion.counts lists"
    if where := jsonl.surrogate_field(obj):
        return f"{where}: holds a lone surrogate, which is not valid Unicode text"
    return None


def picture_path(models: Path, task: str, split: str) -> Path:
    """The forest plot of one leaderboard table (written by `bench.scoring.recording`)."""
    return Path(models) / "plots" / f"leaderboard-{task}-{split}.png"


EXTERNAL_MARK = "†"


def load(path: Path) -> list[dict[str, Any]]:
    """Every record of the leaderboard file; raises LeaderboardError at the first unreadable line.

    Nothing that writes the leaderboard proceeds past this, so a record that cannot be read is
    never silently dropped by rewriting the file without it.
    """
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for n, obj, bad in jsonl.read(path, MAX_RECORD_BYTES):
        bad = bad or _record_problem(obj)
        if bad:
            raise LeaderboardError(
                f"{path}:{n}: {bad}; nothing was written: repair or delete that line (git checkout -- "
                f"{path.name} restores the committed copy; `make eval` re-creates a deleted record)")
        records.append(obj)
    return records


def update(models: Path, new: Iterable[dict[str, Any]], fingerprint: str, plots: bool = False) -> list[dict[str, Any]]:
    """Upsert `new` into the leaderboard files under a lock, so concurrent writers lose nothing.

    Returns all records, ranked. `plots`: link every current table's forest plot (being written).
    """
    models = Path(models)
    with _locked(models):
        records = upsert(load(path_jsonl(models)), new)
        save(records, models, fingerprint, plots)
    return records


def _locked(models: Path) -> Any:
    """The lock every writer of the leaderboard files holds (concurrent `eval`, `score`, `agreement`)."""
    from filelock import FileLock

    models.mkdir(parents=True, exist_ok=True)
    return FileLock(str(models / ".leaderboard.lock"), timeout=60)


def drop_stale(models: Path, fingerprint: str) -> list[dict[str, Any]]:
    """Remove every record made on data other than `fingerprint` (human rows too); returns the removed ones.

    Stale rows are kept by default, so that nothing is lost by evaluating on another labels folder;
    this is the explicit clean-up once the old data is gone for good. Nothing is written when no row
    is stale.
    """
    models = Path(models)
    if not load(path_jsonl(models)):  # no file, or an unreadable line: stop before taking the lock
        return []
    with _locked(models):
        records = load(path_jsonl(models))
        stale = [r for r in records if r["data_fingerprint"] != fingerprint]
        if stale:
            save([r for r in records if r["data_fingerprint"] == fingerprint], models, fingerprint)
    return stale


def _key(r: dict[str, Any]) -> tuple[str, str, str, str]:
    return (r["task"], r["split"], r["model"], r["data_fingerprint"])


VOLATILE = ("evaluated_at", "git_commit", "predict_seconds", "train_seconds", "rank", "p_value", "leader", "stale")


def _same_result(a: dict[str, Any], b: dict[str, Any]) -> bool:
    strip = lambda r: {k: v for k, v in r.items() if k not in VOLATILE}  # noqa: E731
    return strip(a) == strip(b)


def _slot(r: dict[str, Any]) -> tuple[str, ...]:
    """What a new record replaces: a model's record of the task and split; a human row of the same data too."""
    return _key(r) if r["model"] == HUMAN else _key(r)[:3]


def upsert(records: list[dict[str, Any]], new: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with `new` in place of any earlier record of the same slot (`_slot`).

    Re-evaluating replaces a model's record, whatever data the old one was made on; a model that is
    not re-run keeps its old record, which stays stale (never ranked) until it is. Human-ceiling rows
    are replaced only by rows of the same data fingerprint: `agreement` on another labels folder
    adds its rows and leaves the others (stale for that folder). A re-run that reproduces a record
    exactly (all but times and commit) keeps the earlier record, so that repeating `make eval`
    leaves the tracked file unchanged.
    """
    old = {_slot(r): r for r in records}
    fresh = {}
    for r in new:
        prev = old.get(_slot(r))
        fresh[_slot(r)] = prev if prev is not None and _same_result(prev, r) else r
    return [r for r in records if _slot(r) not in fresh] + list(fresh.values())


def _docs(r: dict[str, Any]) -> Any:
    import numpy as np

    k = len(r["confusion"]["labels"])
    return np.asarray(r["doc_confusion"]["counts"], dtype=np.int64).reshape(-1, k, k)


def rerank(records: list[dict[str, Any]], fingerprint: str) -> list[dict[str, Any]]:
    """Set rank, p-value against the leader and leader on every current, rankable record."""
    for r in records:
        for f in ("rank", "p_value", "leader"):
            r.pop(f, None)
        r["stale"] = r["data_fingerprint"] != fingerprint
    groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in records:
        if not r["stale"] and r["model"] != HUMAN:
            groups.setdefault((r["task"], r["split"]), {})[r["model"]] = r
    for (task, _), group in groups.items():
        from . import metrics

        ranked = metrics.rank_models({m: _docs(r) for m, r in group.items()}, TASK_SPECS[task].primary_metric)
        for m, info in ranked.items():
            group[m].update({"rank": info["rank"], "p_value": info["p_value"], "leader": info["leader"]})
    return records


def ranked(records: list[dict[str, Any]], fingerprint: str) -> list[dict[str, Any]]:
    """The records ranked for the data `fingerprint`, for reading (`leaderboard`).

    `save` ranks every record before writing it, so when the file was written for this very data
    (each record's `stale` flag agrees with `fingerprint` and every current model row has a rank) the
    stored ranks and p-values are the ones `rerank` would compute: they are used as they are, and
    reading the leaderboard runs no paired test. Otherwise (the labels changed since) it re-ranks.
    """
    def as_saved(r: dict[str, Any]) -> bool:
        stale = r["data_fingerprint"] != fingerprint
        return r.get("stale") is stale and (stale or r["model"] == HUMAN or "rank" in r)

    return records if all(as_saved(r) for r in records) else rerank(records, fingerprint)


def save(records: list[dict[str, Any]], models: Path, fingerprint: str, plots: bool = False) -> None:
    """Write the records (re-ranked in place) and the Markdown.

    `plots`: every current table's forest plot is being written, link them; else link those on disk.
    """
    models = Path(models)
    models.mkdir(parents=True, exist_ok=True)
    load(path_jsonl(models))  # refuse to overwrite a file with a record that cannot be read
    records = rerank(sorted(records, key=lambda r: (r["task"], r["split"], r["model"], r["data_fingerprint"])), fingerprint)
    pictures = {(r["task"], r["split"]) for r in records if not r["stale"] and r["model"] != HUMAN} if plots else \
        {(t, s) for t in COLUMNS for s in SPLITS if picture_path(models, t, s).exists()}
    atomic_write(path_jsonl(models), "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    atomic_write(path_md(models), render(records, fingerprint, pictures))


def _fmt(m: dict[str, float] | None) -> str:
    if not m:
        return "–"
    return f"{m['value']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]"


def _p(r: dict[str, Any]) -> str:
    if r.get("p_value") is None:
        return "–"
    return "leader" if r["model"] == r.get("leader") else f"{r['p_value']:.3f}"


COLUMNS = {t: s.columns for t, s in TASK_SPECS.items()}


def _url(ref: str) -> str:
    return ref.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def display_name(r: dict[str, Any], markdown: bool = False) -> str:
    """The model cell: floor and ceiling named; external rows marked, linked to their reference in Markdown."""
    name = r["model"]
    if r.get("external"):
        ref = (r.get("card") or {}).get("reference")
        if markdown:
            name = f"[{md_escape(name)}]({_url(ref)})" if ref else md_escape(name)
        return f"{name} {EXTERNAL_MARK}"
    name += " (ceiling)" if name == HUMAN else " (floor)" if name == FLOOR else ""
    return md_escape(name) if markdown else name


def externals(records: list[dict[str, Any]], task: str, split: str) -> list[dict[str, Any]]:
    """The current external rows of one table, in model order (for the card notes under it)."""
    return sorted((r for r in records if r["task"] == task and r["split"] == split and r.get("external")
                   and not r.get("stale")), key=lambda r: r["model"])


def table(records: list[dict[str, Any]], task: str, split: str, markdown: bool = False,
          data: str | None = None) -> list[list[str]]:
    """Rows of one leaderboard table, by rank; the human row (if any) first as the ceiling.

    With `data`, the stale table of that data fingerprint: not ranked, by the task's primary metric."""
    rows = [r for r in records if r["task"] == task and r["split"] == split
            and (r["data_fingerprint"] == data if data is not None else not r.get("stale"))]
    ranked = sorted((r for r in rows if r["model"] != HUMAN), key=lambda r: (r.get("rank", 99), -r["metrics"][TASK_SPECS[task].primary]["value"], r["model"]))
    out = []
    for r in [x for x in rows if x["model"] == HUMAN] + ranked:
        name = display_name(r, markdown)
        rank = "–" if r["model"] == HUMAN else str(r.get("rank", "–" if data is not None else "?"))
        out.append([rank, name, *(_fmt(r["metrics"].get(c)) for c in COLUMNS[task]), _p(r), str(r["n_test"])])
    return out


def card_line(r: dict[str, Any]) -> str:
    """The card of an external row in one line, with the sha256 of the scored predictions file."""
    from .cards import summary

    card = summary(r.get("card"), r["model"]) or "no model card"
    return f"{card}; predictions sha256 {r.get('predictions_sha256', '?')[:12]}"


def render(records: list[dict[str, Any]], fingerprint: str, pictures: set[tuple[str, str]] | None = None) -> str:
    newest = max((r.get("evaluated_at") or "" for r in records), default="")[:10] or time.strftime("%Y-%m-%d", time.gmtime())
    lines = ["# stance-bench leaderboard", "",
             f"Latest evaluation {newest}; rendered from `models/leaderboard.jsonl`; "
             f"data fingerprint **{md_escape(fingerprint)}**.", "",
             "Scores with 95% intervals from 1,000 bootstrap resamples of whole documents. Rank: models that a "
             "paired bootstrap test (over documents, 5%) cannot separate from a rank's leader share its rank; "
             "p is each model's p-value against the overall leader. `human` is the second annotator scored "
             "against adjudicated gold on the agreement sample (not the test split): a ceiling, not ranked. "
             "Lower is better for severe_error_rate and mae. The actors task is scored by actor-set F1, precision and recall "
             "(micro over sentences). "
             f"{EXTERNAL_MARK} marks an external model: predictions made outside this project and scored with "
             "`stance-bench score` (the name links to its reference; its card is listed under the table).", ""]
    for task in TASK_SPECS:
        for split in SPLITS:
            rows = table(records, task, split, markdown=True)
            if not rows:
                continue
            cols = ["rank", "model", *COLUMNS[task], "p vs leader", "n"]
            lines += [f"## {task} · {split} split", "", "| " + " | ".join(cols) + " |",
                      "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(r) + " |" for r in rows]  # table(markdown=True) escapes the names
            lines.append("")
            for r in externals(records, task, split):
                lines += [f"{EXTERNAL_MARK} **{md_escape(r['model'])}**: {md_escape(card_line(r))}", ""]
            if (task, split) in (pictures or set()):
                pic = picture_path(Path("."), task, split).as_posix()
                lines += [f"![{task} · {split} split: scores with intervals]({pic})", ""]
    stale = [r for r in records if r.get("stale")]
    if stale:
        lines += ["## Stale records (other data fingerprint: re-run to rank them)", "",
                  "| task | split | model | data | primary metric |", "|---|---|---|---|---|"]
        lines += ["| " + " | ".join([*(md_escape(r[k]) for k in ("task", "split")), display_name(r, True),
                                     md_escape(r["data_fingerprint"]),
                                     f"{TASK_SPECS[r['task']].primary} {_fmt(r['metrics'].get(TASK_SPECS[r['task']].primary))}"]) + " |"
                  for r in stale]
        lines.append("")
    return "\n".join(lines)
