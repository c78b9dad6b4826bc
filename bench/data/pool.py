"""The pool of unlabelled sentences: `labels/pool/`, what the labeller takes its next sentence from.

`unlabelled.jsonl` holds every sentence brought in (`pool add`), in the pool record format
(labels/pool/README.md), and is only ever appended to; `skipped.jsonl` holds those read and skipped,
with `skip_reason`. A sentence is still to label when neither a dataset (by id or by text) nor
`skipped.jsonl` has it, so the labeller's answers need no rewrite of the pool, and a document's
context (the sentences before and after) stays whole. Writes take the labels lock (the same as the
store's) and replace files atomically; a rejected write changes nothing.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..annotation.labelling import record_id
from .rows import file_kind, iter_csv, iter_jsonl, read_text
from .schema import normalise_text, valid_date
from .store import LabelError, _lock, append_lines, check_store, labels_dir, write_locked

FILES = ("unlabelled", "skipped")
REQUIRED: dict[str, type] = {"id": str, "text": str, "source": str, "doc_id": str, "sent_index": int, "license": str}
OPTIONAL: dict[str, type] = {"date": str, "speaker": str, "speaker_country": str, "title": str, "url": str,
                             "repo": str, "commit": str, "file": str, "note": str, "skip_reason": str,
                             "selected_by": str, "annotator": str}
CSV_COLUMNS = {"text", "doc", "source", "license", "id", "sent_index"} | (set(OPTIONAL) - {"skip_reason", "selected_by", "annotator"})


def pool_dir(labels: str | Path | None = None) -> Path:
    return labels_dir(labels) / "pool"


def pool_id(text: str) -> str:
    """A stable id from the sentence, `pool-<sha>` (the same derivation as `add` uses for records)."""
    return record_id("pool", text)


def check_item(obj: Any) -> list[tuple[str, str]]:
    """Every problem with one pool record, as (field, message) pairs; empty means valid."""
    if not isinstance(obj, dict):
        return [("record", "must be a JSON object")]
    problems: list[tuple[str, str]] = []
    for name, typ in REQUIRED.items():
        if name not in obj:
            problems.append((name, "is missing"))
        elif not isinstance(obj[name], typ) or isinstance(obj[name], bool):
            problems.append((name, f"must be a {'string' if typ is str else 'whole number'}"))
        elif typ is str and not obj[name].strip():
            problems.append((name, "must not be empty"))
    if isinstance(obj.get("sent_index"), int) and obj["sent_index"] < 0:
        problems.append(("sent_index", "must be 0 or more"))
    for name, typ in OPTIONAL.items():
        if name in obj and (not isinstance(obj[name], typ) or not obj[name].strip()):
            problems.append((name, "must be a non-empty string when present"))
    for name in obj:
        if name not in REQUIRED and name not in OPTIONAL:
            problems.append((name, "is not a known field"))
    if isinstance(obj.get("date"), str) and obj["date"].strip() and not valid_date(obj["date"]):
        problems.append(("date", f"{obj['date']!r} is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)"))
    return problems


def _read(labels: str | Path | None, name: str) -> list[dict[str, Any]]:
    path = pool_dir(labels) / f"{name}.jsonl"
    if not path.exists():
        return []
    rows = iter_jsonl(path)
    problems = [f"{path}:{n}: {fld}: {msg}" for n, obj in rows for fld, msg in check_item(obj)]
    if problems:  # the labeller and `pool` would otherwise stumble over a half-written item
        raise LabelError(problems)
    return [obj for _, obj in rows]


def _dump(items: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items)


def load_pool(labels: str | Path | None = None, which: str = "unlabelled") -> list[dict[str, Any]]:
    """The sentences still to label (`unlabelled`, in pool order) or the skipped ones (`skipped`).

    Still to label: in `unlabelled.jsonl` and neither skipped nor in a dataset (by id or by text).
    """
    if which not in FILES:
        raise ValueError(f"unknown pool file {which!r}: choose one of {', '.join(FILES)}")
    items = _read(labels, which)
    if which == "unlabelled":
        done = _is_done(check_store(labels)[0], _read(labels, "skipped"))
        items = [r for r in items if not done(r)]
    return items


def _is_done(*groups: Iterable[Any]):  # noqa: ANN202
    """A test for "this pool item is in one of these groups (records or pool items), by id or by text"."""
    ids, texts = set(), set()
    for group in groups:
        for r in group:
            ids.add(r.get("id"))
            if isinstance(r.get("text"), str):
                texts.add(normalise_text(r["text"]))
    return lambda item: item.get("id") in ids or normalise_text(str(item.get("text", ""))) in texts


def document(doc_id: str, labels: str | Path | None = None) -> list[dict[str, Any]]:
    """Every pool sentence of one document (labelled, skipped or not), by `sent_index`."""
    seen: dict[str, dict[str, Any]] = {}
    for name in FILES:
        for r in _read(labels, name):
            if r.get("doc_id") == doc_id:
                seen.setdefault(r["id"], r)
    return sorted(seen.values(), key=lambda r: (r.get("sent_index", 0), r["id"]))


def neighbours(item: dict[str, Any] | str, labels: str | Path | None = None, before: int = 2,
               after: int = 1) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(up to `before` sentences before, up to `after` after) the item in its document, nearest last/first."""
    if isinstance(item, str):
        found = [r for name in FILES for r in _read(labels, name) if r.get("id") == item]
        if not found:
            raise LabelError([f"{pool_dir(labels)}: id: {item!r} is not in the pool"])
        item = found[0]
    doc = document(item["doc_id"], labels)
    pos = next((i for i, r in enumerate(doc) if r["id"] == item["id"]), None)
    if pos is None:
        return [], []
    return doc[max(0, pos - before):pos], doc[pos + 1:pos + 1 + after]


def add_skip(item_id: str, reason: str, labels: str | Path | None = None, **extra: str) -> dict[str, Any]:
    """Record a pool sentence as skipped (`skipped.jsonl`, with `skip_reason`), so nobody is offered it again."""
    d = pool_dir(labels)
    if not reason.strip():
        raise LabelError([f"{d / 'skipped.jsonl'}: skip_reason: must not be empty"])
    item = next((r for r in load_pool(labels) if r.get("id") == item_id), None)
    if item is None:
        raise LabelError([f"{d / 'unlabelled.jsonl'}: id: {item_id!r} is not a pool sentence still to label"])
    line = {**item, "skip_reason": reason.strip(), **{k: v for k, v in extra.items() if v}}
    append_lines(d / "skipped.jsonl", [line], labels_dir(labels))
    return line


@dataclass
class PoolAddResult:
    """What `pool add` did (or would do): the new items and how many were dropped as duplicates."""

    added: list[dict[str, Any]]
    duplicates: Counter = field(default_factory=Counter)
    path: Path | None = None

    @property
    def dropped(self) -> int:
        return sum(self.duplicates.values())


def _rows(path: Path, doc: str | None, source: str | None, license: str | None, context: dict[str, str]) -> list[tuple[int, dict[str, Any]]]:
    """(line, pool record without id) for every sentence of the input file."""
    kind = file_kind(path)
    rows: list[tuple[int, dict[str, Any]]] = []
    if kind == "txt":
        from .sentences import split_sentences

        missing = [f"--{k}" for k, v in (("source", source), ("license", license)) if not v]
        if missing:
            raise LabelError([f"{path}: options: a plain-text document needs {' and '.join(missing)}"])
        text = read_text(path)
        doc_id = doc or path.stem
        at = 0  # line numbers: where each sentence's first word is, searching forward
        for i, sent in enumerate(split_sentences(text)):
            found = text.find(sent.split()[0], at)
            at = found if found >= 0 else at
            rows.append((text.count("\n", 0, at) + 1, {"text": sent, "source": source, "doc_id": doc_id,
                                                       "sent_index": i, "license": license, **context}))
        return rows
    if kind == "csv":
        raw = iter_csv(path, CSV_COLUMNS, {"text"})
    else:
        raw = iter_jsonl(path)
    for n, obj in raw:
        if not isinstance(obj, dict):
            rows.append((n, obj))
            continue
        obj = dict(obj)
        if "doc" in obj and "doc_id" not in obj:
            obj["doc_id"] = obj.pop("doc")
        if "sent_index" in obj and isinstance(obj["sent_index"], str):
            obj["sent_index"] = int(obj["sent_index"]) if obj["sent_index"].isdigit() else obj["sent_index"]
        for key, val in (("doc_id", doc), ("source", source), ("license", license), *context.items()):
            if val and key not in obj:
                obj[key] = val
        if isinstance(obj.get("text"), str):
            obj["text"] = " ".join(obj["text"].split())
        rows.append((n, obj))
    return rows


def add_to_pool(path: str | Path, labels: str | Path | None = None, *, doc: str | None = None,
                source: str | None = None, license: str | None = None, dry_run: bool = False,
                **context: str) -> PoolAddResult:
    """Add unlabelled sentences from a JSONL, CSV or plain-text file to `labels/pool/unlabelled.jsonl`.

    Every row is checked first; any bad row refuses the whole file with `FILE:LINE: field: message`.
    Sentences already labelled, skipped or pooled (normalised text), or repeated within the file,
    are dropped and counted in `duplicates`. `doc`, `source`, `license` and `context` (date, speaker,
    title, url, ...) fill fields the rows leave out; `sent_index` defaults to the order within each
    document, after the document's sentences already in the pool.
    """
    path = Path(path)
    context = {k: v for k, v in context.items() if v}
    bad = [("--doc" if k == "doc_id" else f"--{k.replace('_', '-')}", msg) for k, v in {"doc_id": doc, "source": source, "license": license, **context}.items()
           if v for fld, msg in check_item({"id": "x", "text": "x", "source": "x", "doc_id": "x", "sent_index": 0,
                                            "license": "x", k: v}) if fld == k]
    if bad:  # an option fills every row: say so once, not once per row
        raise LabelError([f"{opt}: {msg}" for opt, msg in bad])
    rows = _rows(path, doc, source, license, context)
    problems: list[str] = []
    pdir = pool_dir(labels)
    with _lock(labels_dir(labels)):
        existing = {name: _read(labels, name) for name in FILES}
        next_index: Counter = Counter()
        for items in existing.values():
            for r in items:
                if isinstance(r.get("sent_index"), int):
                    next_index[r.get("doc_id")] = max(next_index[r.get("doc_id")], r["sent_index"] + 1)
        seen: dict[str, str] = {}
        for rec in check_store(labels)[0]:
            seen.setdefault(normalise_text(rec["text"]), "labelled")
        for name in ("skipped", "unlabelled"):
            for r in existing[name]:
                if isinstance(r.get("text"), str):
                    seen.setdefault(normalise_text(r["text"]), "in the pool" if name == "unlabelled" else name)
        ids = {r.get("id") for items in existing.values() for r in items}
        result = PoolAddResult([])
        in_file: dict[str, int] = {}
        for n, obj in rows:
            if isinstance(obj, dict) and isinstance(obj.get("text"), str) and obj["text"]:
                if "sent_index" not in obj and isinstance(obj.get("doc_id"), str):
                    obj["sent_index"] = next_index[obj["doc_id"]]
                    next_index[obj["doc_id"]] += 1
                obj.setdefault("id", pool_id(obj["text"]))
                obj = {k: obj[k] for k in ("id", "text", *[k for k in obj if k not in ("id", "text")])}
            errs = check_item(obj)
            problems += [f"{path}:{n}: {fld}: {msg}" for fld, msg in errs]
            if errs:
                continue
            key = normalise_text(obj["text"])
            if key in seen:
                result.duplicates[seen[key]] += 1
                continue
            if key in in_file:
                result.duplicates["in the file"] += 1
                continue
            if obj["id"] in ids:
                problems.append(f"{path}:{n}: id: {obj['id']!r} is already used in the pool")
                continue
            in_file[key] = n
            ids.add(obj["id"])
            result.added.append(obj)
        if problems:
            raise LabelError(problems)
        result.path = pdir / "unlabelled.jsonl"
        if not dry_run and result.added:
            pdir.mkdir(parents=True, exist_ok=True)
            write_locked(result.path, _dump([*existing["unlabelled"], *result.added]))
    return result


def pool_counts(labels: str | Path | None = None) -> dict[str, Any]:
    """Counts for `stance-bench pool`: still to label by source and by document, skipped, labelled."""
    todo = load_pool(labels)
    records = check_store(labels)[0]
    labelled = _is_done(records)
    return {
        "unlabelled": len(todo),
        "by_source": dict(Counter(r.get("source", "?") for r in todo).most_common()),
        "by_doc": dict(Counter(r.get("doc_id", "?") for r in todo).most_common()),
        "skipped": len(_read(labels, "skipped")),
        "pool_labelled": sum(1 for r in _read(labels, "unlabelled") if labelled(r)),
        "labelled": len(records),
        "path": str(pool_dir(labels)),
    }
