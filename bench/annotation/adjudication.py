"""Second annotation of a sample and adjudication of the disagreements, into `labels/agreement/`.

`second_session` draws a sample of already-labelled (and skipped) sentences, stratified by source
and seeded, records their first annotation as it is in `first.jsonl`, and presents them to a second
annotator who never sees the first labels; answers go to `second.jsonl`. `AdjudicationSession`
walks the sentences on which the two disagree, side by side, and writes the gold decision into
the dataset record (atomic, validated) and a line into `adjudication.jsonl`.
"""
from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from .agreement import FIRST, SECOND, _stance_map, read_annotation
from ..data.pool import load_pool
from .labeller import AnswerForm, Item, LabelSession, Result, Screen, pool_context, read_jsonl, record_from
from ..data.schema import Actor, load_actors
from ..data.store import (LabelError, append_lines, append_records, labels_dir, load_records, remove_lines,
                    remove_records, replace_records)

ADJUDICATION = "adjudication.jsonl"


def _agreement_dir(labels: str | Path | None) -> Path:
    return labels_dir(labels) / "agreement"


def annotations(path: Path) -> dict[str, dict[str, Any]]:
    """An agreement file's annotations by id, in file order (checked by `bench.annotation.agreement`); {} if none yet."""
    return read_annotation(path) if path.exists() else {}


def first_annotation(obj: dict[str, Any]) -> dict[str, Any]:
    """The labels of a record or a skipped pool line, in the agreement files' format."""
    if "skip_reason" in obj:
        return {"skip": obj["skip_reason"]}
    return {"tension": obj["tension"], "stances": obj["stances"]}


def stratified_sample(population: list[dict[str, Any]], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n items drawn in proportion to their `source` (largest remainders), seeded; at most the population."""
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for obj in sorted(population, key=lambda o: o["id"]):
        by_source[str(obj.get("source"))].append(obj)
    n = min(n, len(population))
    if n <= 0:
        return []
    quotas = {s: n * len(v) / len(population) for s, v in by_source.items()}
    take = {s: int(q) for s, q in quotas.items()}
    for s in sorted(quotas, key=lambda s: (-(quotas[s] - take[s]), s))[: n - sum(take.values())]:
        take[s] += 1
    rng = random.Random(seed)
    out = []
    for s in sorted(by_source):
        out += rng.sample(by_source[s], take[s])
    rng.shuffle(out)
    return out


def draw_sample(labels: str | Path | None = None, n: int = 50, seed: int = 0) -> list[dict[str, Any]]:
    """Add n sentences not sampled before to `first.jsonl` with their first annotation as it is now."""
    lab = labels_dir(labels)
    folder = _agreement_dir(lab)
    seen = set(annotations(folder / FIRST)) | set(annotations(folder / SECOND))
    population = [{**r.data, "dataset": r.dataset} for r in load_records(lab) if r.id not in seen]
    population += [s for s in load_pool(lab, "skipped") if s["id"] not in seen]
    lines = [{"id": o["id"], "text": o["text"], "source": o.get("source"), **first_annotation(o)}
             for o in stratified_sample(population, n, seed)]
    if lines:
        append_lines(folder / FIRST, lines, lab)
    return lines


def _items_by_id(labels: Path) -> dict[str, Item]:
    """Every labelled or skipped sentence as a pool-style item (provenance, `doc_id`), without its labels."""
    items: dict[str, Item] = {}
    for s in load_pool(labels, "skipped"):
        items[s["id"]] = {k: v for k, v in s.items() if k not in ("skip_reason", "selected_by", "annotator")}
    for r in load_records(labels):
        d = r.data
        items[r.id] = {"id": r.id, "text": d["text"], "doc_id": d["doc"], "source": d["source"], "license": d["license"],
                       "dataset": r.dataset, **{k: d[k] for k in ("date", "speaker", "speaker_country", "title", "url") if k in d}}
    return items


class SecondSink:
    """Answers of the second annotator go to `agreement/second.jsonl`; the first labels are never read here."""

    def __init__(self, labels: str | Path | None, pending: list[str], annotator: str | None = None):
        self.root, self.annotator = labels_dir(labels), annotator
        self.path = _agreement_dir(self.root) / SECOND
        self.pending = set(pending)

    def done(self) -> tuple[set[str], set[str]]:
        return set(annotations(self.path)), set()

    def save(self, item: Item, result: Result, selected_by: str) -> Callable[[], Any]:
        line = {"id": item["id"], "text": item["text"], "source": item.get("source"), **result.as_annotation(),
                **({"annotator": self.annotator} if self.annotator else {})}
        append_lines(self.path, [line], self.root)
        return lambda: remove_lines(self.path, [item["id"]], self.root)


class SampleOrder:
    def pick(self, remaining: list[Item]) -> tuple[Item, str]:
        return remaining[0], "agreement"


def second_session(labels: str | Path | None = None, annotator: str | None = None, sample: int = 50, seed: int = 0,
                   clock: Callable[[], float] | None = None) -> LabelSession:
    """The second annotation: resume the pending sample, or draw a new one of `sample` sentences."""
    lab = labels_dir(labels)
    folder = _agreement_dir(lab)
    folder.mkdir(parents=True, exist_ok=True)
    done = set(annotations(folder / SECOND))
    pending = [i for i in annotations(folder / FIRST) if i not in done]
    if not pending:
        pending = [o["id"] for o in draw_sample(lab, sample, seed)]
    known = _items_by_id(lab)
    items = [known[i] for i in pending if i in known]
    kwargs = {"clock": clock} if clock else {}
    return LabelSession(items, SecondSink(lab, pending, annotator), load_actors(lab / "actors.toml"), SampleOrder(),
                        pool_context(lab), **kwargs)


def disagrees(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two annotations differ: skip vs labels, the tension, or any actor's stance."""
    if ("skip" in a) or ("skip" in b):
        return ("skip" in a) != ("skip" in b)
    return a["tension"] != b["tension"] or _stance_map(a) != _stance_map(b)


def _labels_of(a: dict[str, Any]) -> dict[str, Any]:
    return {"skip": a["skip"]} if "skip" in a else {"tension": a["tension"], "stances": a["stances"]}


def write_gold(labels: Path, item: Item, gold: dict[str, Any], dataset: str = "user") -> None:
    """Make the store say `gold` for this sentence: replace its record, add it, or move it to the skipped pool."""
    records = {r.id: r for r in load_records(labels)}
    skipped = labels / "pool" / "skipped.jsonl"
    rec = records.get(item["id"])
    if "skip" in gold:
        if rec is not None:
            remove_records(rec.dataset, [rec.id], labels)
            line = {k: v for k, v in item.items() if k != "dataset"}
            append_lines(skipped, [{**line, "skip_reason": gold["skip"]}], labels)
        return
    if rec is not None:
        replace_records(rec.dataset, [{**rec.data, "tension": gold["tension"], "stances": gold["stances"]}], labels)
        return
    new = record_from(item, Result(tension=gold["tension"], stances=gold["stances"]))
    append_records(item.get("dataset") or dataset, [new], labels)
    remove_lines(skipped, [item["id"]], labels)


class AdjudicationSession:
    """Walks the disagreements: 1 takes the first annotation, 2 the second, e edits; q quits (resumable)."""

    def __init__(self, labels: str | Path | None = None, dataset: str = "user"):
        self.root, self.dataset = labels_dir(labels), dataset
        folder = _agreement_dir(self.root)
        self.log = folder / ADJUDICATION
        first, second = annotations(folder / FIRST), annotations(folder / SECOND)
        decided = {o["id"] for o in read_jsonl(self.log)}
        self.items = _items_by_id(self.root)
        self.actors: dict[str, Actor] = load_actors(self.root / "actors.toml")
        self.queue = [(i, first[i], second[i]) for i in second if i in first and i not in decided
                      and disagrees(first[i], second[i])]
        self.total = len(self.queue)
        self.decided = 0
        self.form: AnswerForm | None = None
        self.finished = False

    def start(self) -> Screen:
        return self.screen("no disagreements left to adjudicate" if not self.queue else "")

    def key(self, k: str) -> Screen:
        if not self.queue or self.finished:
            self.finished = True
            return self.screen()
        i, a, b = self.queue[0]
        if self.form is not None:
            if not self.form.typing and k == "q":
                return self.quit()
            if k == "\x1b" and self.form.phase == "tension":
                self.form = None
                return self.screen("edit cancelled")
            out = self.form.key(k)
            if isinstance(out, Result):
                return self._decide(_labels_of(out.as_annotation()), "edited")
            return self.screen(out or "")
        if k == "1":
            return self._decide(_labels_of(a), "first")
        if k == "2":
            return self._decide(_labels_of(b), "second")
        if k == "e":
            self.form = AnswerForm(self.items.get(i) or {"id": i, "text": a.get("text", "")}, self.actors)
            return self.screen()
        if k == "q":
            return self.quit()
        return self.screen("1 take the first annotation · 2 take the second · e edit (label it afresh; Esc before the tension goes back) · q quit")

    def _decide(self, gold: dict[str, Any], decision: str) -> Screen:
        i, a, b = self.queue[0]
        item = self.items.get(i)
        if item is None:
            return self.screen(f"{i} is neither labelled nor skipped in the store: cannot write gold")
        try:
            write_gold(self.root, item, gold, self.dataset)
        except LabelError as exc:
            self.form = None
            return self.screen(f"not written: {exc}")
        append_lines(self.log, [{"id": i, "text": item["text"], "first": _labels_of(a), "second": _labels_of(b),
                                 "gold": gold, "decision": decision}], self.root)
        self.queue.pop(0)
        self.form = None
        self.decided += 1
        self.finished = not self.queue
        return self.screen(f"{i}: gold = {decision}" + ("; all disagreements adjudicated (run stance-bench agreement)" if self.finished else ""))

    def quit(self) -> Screen:
        self.finished = True
        return self.screen(f"quit: {self.decided} decision(s) written; run adjudicate again to resume")

    def screen(self, message: str = "") -> Screen:
        header = f"{self.decided} decided · {len(self.queue)} disagreement(s) left"
        if self.finished or not self.queue:
            return Screen(header=header, message=message, done=True)
        i, a, b = self.queue[0]
        item = self.items.get(i, {"text": a.get("text", "")})
        ctx = [(k, str(item[k])) for k in ("speaker", "speaker_country", "date", "title", "source") if item.get(k)]

        def show(ann: dict[str, Any]) -> str:
            if "skip" in ann:
                return f"skip ({ann['skip']})"
            st = "; ".join(f"{s['actor']}" + (f" '{s['mention']}'" if "mention" in s else " (speaker)") + f": {s['stance']}"
                           for s in ann["stances"]) or "no stances"
            return f"tension {ann['tension']} · {st}"

        if self.form is not None:
            options, prompt = self.form.options_and_prompt()
            answer = self.form.answer_lines()
            spans = self.form.spans()
        else:
            options = [f"1. first:  {show(a)}", f"2. second: {show(b)}"]
            prompt, answer, spans = "1 take first · 2 take second · e edit · q quit", [], []
        return Screen(header=header + f" · {i}", context=ctx, text=item["text"], spans=spans, answer=answer,
                      options=options, prompt=prompt, message=message)


