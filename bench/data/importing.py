"""Bulk import of labelled sentences (`stance-bench import`): JSONL records or a CSV, all or nothing.

The store is read and checked once, under its lock; every new row is checked against it with the
same rules as `validate` (schema, registry, mentions, unique ids and sentences), so a 10,000-row
file costs one pass over the store plus one per row, not one store validation per row.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..annotation.labelling import record_id
from .rows import file_kind, iter_csv, iter_jsonl
from .schema import OPTIONAL_FIELDS, check_record, load_actors, normalise_text
from .store import LabelError, _lock, check_dataset_name, check_store, labels_dir, write_locked

CSV_REQUIRED = {"text", "tension", "doc", "source", "license"}
CSV_COLUMNS = CSV_REQUIRED | {"stances", "mentions", "id"} | set(OPTIONAL_FIELDS)


class PairError(ValueError):
    """A malformed `ACTOR=VALUE;ACTOR=VALUE` cell."""


def parse_pairs(cell: str) -> list[tuple[str, str]]:
    """`RUS=cautious;USA=pro-cooperation` -> [("RUS", "cautious"), ("USA", "pro-cooperation")].

    Items are separated by `;`, key and value by the first `=`; both are stripped of white space.
    An empty cell is no pairs. A value may hold `=` but not `;`.
    """
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in cell.split(";"):
        if not item.strip():
            continue
        if "=" not in item:
            raise PairError(f"{item.strip()!r} is not ACTOR=VALUE")
        key, val = (x.strip() for x in item.split("=", 1))
        if not key or not val:
            raise PairError(f"{item.strip()!r} needs both an actor and a value")
        if key in seen:
            raise PairError(f"{key} is given twice")
        seen.add(key)
        out.append((key, val))
    return out


def format_pairs(pairs: list[tuple[str, str]]) -> str:
    """The inverse of parse_pairs (for writing CSVs)."""
    return ";".join(f"{k}={v}" for k, v in pairs)


def record_from_csv(cells: dict[str, str]) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """A record from one CSV row's non-empty cells, or (None, problems) for a bad pairs cell."""
    problems: list[tuple[str, str]] = []
    try:
        stances = parse_pairs(cells.get("stances", ""))
    except PairError as exc:
        problems.append(("stances", str(exc)))
        stances = []
    try:
        mentions = dict(parse_pairs(cells.get("mentions", "")))
    except PairError as exc:
        problems.append(("mentions", str(exc)))
        mentions = {}
    for a in mentions:
        if a not in dict(stances):
            problems.append(("mentions", f"{a} has a mention but no stance in the stances column"))
    if problems:
        return None, problems
    rec: dict[str, Any] = {k: cells[k] for k in ("id", "text", "doc", "tension") if k in cells}
    rec["stances"] = [{"actor": a, "stance": s, **({"mention": mentions[a]} if a in mentions else {})} for a, s in stances]
    rec.update({k: cells[k] for k in ("source", *OPTIONAL_FIELDS, "license") if k in cells})
    return rec, []


@dataclass
class ImportResult:
    """The records added to (or, with dry_run, that would be added to) `path`."""

    records: list[dict[str, Any]]
    path: Path
    dry_run: bool


def import_records(path: str | Path, dataset: str, labels: str | Path | None = None, dry_run: bool = False) -> ImportResult:
    """Validate every row of a JSONL or CSV file, then append them all to `labels/DATASET.jsonl`, or none.

    Problems are reported as `FILE:LINE: field: message`; a sentence or id already in the store, or
    repeated within the file, names both places. With `dry_run`, nothing is written.
    """
    path, root = Path(path), labels_dir(labels)
    target = root / f"{dataset}.jsonl"
    check_dataset_name(dataset, root)
    kind = file_kind(path)
    if kind == "txt":
        raise LabelError([f"{path}: file: import takes labelled JSONL or CSV; plain text goes to `stance-bench pool add`"])
    actors = load_actors(root / "actors.toml")
    problems: list[str] = []
    new: list[tuple[int, dict[str, Any]]] = []
    rows = iter_csv(path, CSV_COLUMNS, CSV_REQUIRED) if kind == "csv" else iter_jsonl(path)
    for n, obj in rows:
        if kind == "csv":
            obj, errs = record_from_csv(obj)
            if errs:
                problems += [f"{path}:{n}: {fld}: {msg}" for fld, msg in errs]
                continue
        if isinstance(obj, dict) and "id" not in obj and isinstance(obj.get("text"), str) and obj["text"].strip():
            obj = {"id": record_id(dataset, obj["text"]), **obj}
        errs = check_record(obj, actors)
        problems += [f"{path}:{n}: {fld}: {msg}" for fld, msg in errs]
        if not errs:
            new.append((n, obj))
    with _lock(root):
        existing, store_problems = check_store(root)
        if store_problems:
            raise LabelError([*store_problems, f"{root}: store: fix these first (stance-bench validate); nothing imported"])
        ids = {r.id: f"{r.dataset}.jsonl:{r.line}" for r in existing}
        texts = {normalise_text(r["text"]): f"{r.dataset}.jsonl:{r.line} ({r.id})" for r in existing}
        file_ids: dict[str, int] = {}
        file_texts: dict[str, int] = {}
        for n, rec in new:
            where = f"{path}:{n}"
            key = normalise_text(rec["text"])
            if rec["id"] in ids:
                problems.append(f"{where}: id: {rec['id']!r} is already used at {ids[rec['id']]}")
            elif rec["id"] in file_ids:
                problems.append(f"{where}: id: {rec['id']!r} is already used at {path}:{file_ids[rec['id']]}")
            if key in texts:
                problems.append(f"{where}: text: the same sentence is already labelled at {texts[key]}")
            elif key in file_texts:
                problems.append(f"{where}: text: the same sentence is already at {path}:{file_texts[key]}")
            file_ids.setdefault(rec["id"], n)
            file_texts.setdefault(key, n)
        if problems:
            raise LabelError(problems)
        records = [rec for _, rec in new]
        if not dry_run and records:
            old = target.read_text(encoding="utf-8") if target.exists() else ""
            if old and not old.endswith("\n"):
                old += "\n"
            write_locked(target, old + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return ImportResult(records, target, dry_run)
