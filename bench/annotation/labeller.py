"""The interactive labeller as a pure state machine: keys in, screens out, every answer saved at once.

`LabelSession` knows nothing of the terminal: the CLI feeds it one key string at a time and renders
the `Screen` it returns. Every answer is validated and written through the store (locked, atomic)
the moment it is given, so a crash loses at most the sentence on screen, and quitting or crashing
resumes at the next unlabelled sentence. The order in which sentences come (`bench.annotation.active`) may be
chosen by a model; the screen never shows a model's prediction.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from ..data.schema import Actor, STANCES, TENSIONS, load_actors, normalise_text
from ..data.store import (LabelError, append_lines, append_records, check_dataset_name, labels_dir, load_records,
                    remove_lines, remove_records)

TENSION_KEYS = {"l": "low", "m": "medium", "h": "high"}
STANCE_KEYS = {"p": "pro-cooperation", "c": "cautious", "d": "deterrence-seeking"}
SKIP_REASONS = {"1": "off-topic", "2": "no content (procedural or only describes events without an actor's position)",
                "3": "not a clean sentence (fragment, garbled, not English)"}
ENTER, ESCAPE, BACKSPACE = ("\r", "\n"), "\x1b", ("\x7f", "\x08")
PROVENANCE = ("date", "speaker", "speaker_country", "title", "url")
KEY_HELP = (
    ("l / m / h", "tension low / medium / high"),
    ("p / c / d", "stance of the actor asked: pro-cooperation / cautious / deterrence-seeking"),
    ("n", "this actor takes no position here (drop it)"),
    ("a", "add an actor (type part of a name, Enter, then its number)"),
    ("r", "remove an actor (then its number)"),
    ("t", "start this sentence again"),
    ("Enter / y", "save the answer (when all is answered)"),
    ("s", "skip the sentence with a reason (1-3 or type one, Enter)"),
    ("u", "undo the last saved answer (it comes back on screen)"),
    ("Esc", "cancel what is being typed or chosen"),
    ("?", "this list"),
    ("q", "quit (everything answered is saved; run again to resume)"),
)
assert set(TENSION_KEYS.values()) == set(TENSIONS) and set(STANCE_KEYS.values()) == set(STANCES)

Item = dict[str, Any]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of an agreement or pool file, each with a string `id` and `text`; [] if there is none.

    A bad line raises LabelError naming `FILE:LINE: field`, rather than a traceback.
    """
    from ..data.rows import iter_jsonl

    if not path.exists():
        return []
    out, problems = [], []
    for n, obj in iter_jsonl(path):
        problem = "record: must be a JSON object" if not isinstance(obj, dict) else next(
            (f"{k}: must be a non-empty string" for k in ("id", "text") if not isinstance(obj.get(k), str) or not obj[k].strip()), None)
        if problem is None:
            out.append(obj)
        else:
            problems.append(f"{path}:{n}: {problem}")
    if problems:
        raise LabelError(problems)
    return out


def suggest_actors_in(text: str, actors: dict[str, Actor], speaker_country: str | None = None) -> list[tuple[str, str | None]]:
    """Registry actors found in a sentence (`bench.data.gazetteer.detect`), as (actor, mention): the
    speaking state first (unnamed, when the sentence speaks in the first person), then in text order.

    Suggestions only: the person labelling confirms or drops each one.
    """
    from ..data.gazetteer import detect

    found = detect(text, actors, speaker_country)
    return sorted(found.items(), key=lambda am: am[1] is not None)  # stable: named ones keep text order


def fuzzy_actors(query: str, actors: dict[str, Actor], n: int = 9) -> list[str]:
    """Registry ids whose id, name or an alias best match what was typed (rapidfuzz WRatio)."""
    from rapidfuzz import fuzz, process

    q = query.strip().casefold()
    if not q:
        return []
    choices: dict[str, str] = {}
    for a in actors.values():
        for label in (a.id, a.name, *a.aliases):
            choices.setdefault(label.casefold(), a.id)
    exact = [choices[c] for c in choices if c == q]
    scored = process.extract(q, list(choices), scorer=fuzz.WRatio, limit=n * 4, score_cutoff=50)
    out: list[str] = []
    for aid in exact + [choices[c] for c, _, _ in scored]:
        if aid not in out:
            out.append(aid)
    return out[:n]


Context = Callable[[Item], tuple[str | None, str | None]]
"""The sentence before and the sentence after an item in its document (None where there is none)."""


def pool_context(labels: str | Path | None = None) -> Context:
    """Context from the pool's documents (`bench.data.pool.neighbours`: labelled, skipped or not)."""
    from ..data.pool import neighbours

    def around(item: Item) -> tuple[str | None, str | None]:
        if not isinstance(item.get("doc_id"), str):
            return None, None
        before, after = neighbours(item, labels, before=1, after=1)
        return (before[-1]["text"] if before else None), (after[0]["text"] if after else None)

    return around


@dataclass
class Screen:
    """What to show: progress, context, the sentence with highlighted actor mentions, the answer so far."""

    header: str
    context: list[tuple[str, str]] = field(default_factory=list)
    before: str | None = None
    text: str = ""
    after: str | None = None
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    answer: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    prompt: str = ""
    message: str = ""
    status: str = ""
    done: bool = False


@dataclass
class Result:
    """A finished answer: labels (`tension`, `stances`) or a skip with its reason."""

    tension: str | None = None
    stances: list[dict[str, str]] = field(default_factory=list)
    skip: str | None = None

    def as_annotation(self) -> dict[str, Any]:
        return {"skip": self.skip} if self.skip is not None else {"tension": self.tension, "stances": self.stances}


class AnswerForm:
    """The keys of one sentence: tension, one stance key per suggested actor, add/remove, skip."""

    def __init__(self, item: Item, actors: dict[str, Actor]):
        self.item, self.actors = item, actors
        self.reset()

    def reset(self) -> None:
        self.candidates = suggest_actors_in(self.item["text"], self.actors, self.item.get("speaker_country"))
        self.tension: str | None = None
        self.stances: list[dict[str, str]] = []
        self.cand = 0
        self.phase = "tension"
        self.buffer = ""
        self.choices: list[str] = []
        self.pending: dict[str, str] = {}

    @property
    def typing(self) -> bool:
        """Whether keys are text being typed (so u, q, ? are letters, not commands)."""
        return self.phase in ("add-search", "add-mention-text", "skip")

    def _next_candidate(self) -> None:
        self.phase = "stance" if self.cand < len(self.candidates) else "review"

    def key(self, k: str) -> Result | str | None:
        """Handle one key: a Result when the sentence is answered, a message string, or None."""
        if k == ESCAPE:
            self.buffer, self.choices, self.pending = "", [], {}
            self._next_candidate() if self.tension else setattr(self, "phase", "tension")
            return "cancelled"
        if self.typing:
            return self._type(k)
        if k == "s":
            self.phase, self.buffer = "skip", ""
            return None
        if k == "t":
            self.reset()
            return "starting this sentence again"
        return getattr(self, "_" + self.phase.replace("-", "_"))(k)

    def _type(self, k: str) -> Result | str | None:
        if self.phase == "skip" and not self.buffer and k in SKIP_REASONS:
            return Result(skip=SKIP_REASONS[k])
        if k in BACKSPACE:
            self.buffer = self.buffer[:-1]
            return None
        if k not in ENTER:
            if k.isprintable():
                self.buffer += k
            return None
        text, self.buffer = self.buffer.strip(), ""
        if not text:
            return "type something, or Esc to cancel"
        if self.phase == "skip":
            return Result(skip=text)
        if self.phase == "add-search":
            self.choices = fuzzy_actors(text, self.actors)
            if not self.choices:
                return f"no registry actor matches {text!r}; try again"
            self.phase = "add-choose"
            return None
        if text not in self.item["text"]:
            self.phase = "add-mention-text"
            return f"{text!r} is not in the sentence: type the words exactly as written"
        self.pending["mention"] = text
        self.phase = "add-stance"
        return None

    def _tension(self, k: str) -> str | None:
        if k not in TENSION_KEYS:
            return "tension first: l low, m medium, h high (? for all keys)"
        self.tension = TENSION_KEYS[k]
        self._next_candidate()
        return None

    def _stance(self, k: str) -> str | None:
        actor, mention = self.candidates[self.cand]
        if k in STANCE_KEYS:
            self.stances.append({"actor": actor, "stance": STANCE_KEYS[k], **({"mention": mention} if mention else {})})
        elif k != "n":
            return f"stance of {actor}: p, c, d, or n if it takes no position here"
        self.cand += 1
        self._next_candidate()
        return None

    def _review(self, k: str) -> Result | str | None:
        if k in ENTER or k == "y":
            return Result(tension=self.tension, stances=list(self.stances))
        if k == "a":
            self.phase, self.buffer = "add-search", ""
            return None
        if k == "r":
            if not self.stances:
                return "no actor to remove"
            self.phase = "remove"
            return None
        if k in TENSION_KEYS:
            self.tension = TENSION_KEYS[k]
            return None
        return "Enter saves; a adds an actor, r removes one, l/m/h changes the tension, s skips (? for all keys)"

    def _remove(self, k: str) -> str | None:
        if k.isdigit() and 1 <= int(k) <= len(self.stances):
            gone = self.stances.pop(int(k) - 1)
            self.phase = "review"
            return f"removed {gone['actor']}"
        return f"which actor? 1-{len(self.stances)} (Esc cancels)"

    def _add_choose(self, k: str) -> str | None:
        if not (k.isdigit() and 1 <= int(k) <= len(self.choices)):
            return f"which actor? 1-{len(self.choices)} (Esc cancels)"
        actor = self.choices[int(k) - 1]
        if any(s["actor"] == actor for s in self.stances):
            self.phase = "review"
            return f"{actor} already has a stance: remove it first (r) to change it"
        from ..data.features import find_mention

        self.pending = {"actor": actor}
        found = find_mention(self.item["text"], actor, self.actors)
        self.choices = [found] if found else []
        self.phase = "add-mention"
        return None

    def _add_mention(self, k: str) -> str | None:
        if k == "1" and self.choices:
            self.pending["mention"] = self.choices[0]
        elif k == "w":
            self.phase = "add-mention-text"
            return None
        elif k != "0":
            return "1 the words found, 0 the unnamed speaker, w type the words"
        self.phase = "add-stance"
        return None

    def _add_stance(self, k: str) -> str | None:
        if k not in STANCE_KEYS:
            return f"stance of {self.pending['actor']}: p, c or d"
        self.stances.append({"actor": self.pending["actor"], "stance": STANCE_KEYS[k],
                             **({"mention": self.pending["mention"]} if "mention" in self.pending else {})})
        self.pending = {}
        self.phase = "review"
        return None

    # -- what the screen shows -------------------------------------------------------------------
    def _name(self, actor: str) -> str:
        a = self.actors.get(actor)
        return f"{actor} ({a.name})" if a else actor

    def spans(self) -> list[tuple[int, int, str]]:
        text, out = self.item["text"], []
        for actor, mention in [*self.candidates, *((s["actor"], s.get("mention")) for s in self.stances)]:
            if mention and (i := text.find(mention)) >= 0 and (i, i + len(mention), actor) not in out:
                out.append((i, i + len(mention), actor))
        return sorted(out)

    def answer_lines(self) -> list[str]:
        lines = [f"tension: {self.tension or '?'}"]
        for n, s in enumerate(self.stances, 1):
            where = f"'{s['mention']}'" if "mention" in s else "the speaker (unnamed)"
            lines.append(f"{n}. {self._name(s['actor'])} as {where}: {s['stance']}")
        return lines

    def options_and_prompt(self) -> tuple[list[str], str]:
        p = self.phase
        if p == "tension":
            found = ", ".join(f"{a}" + (f" '{m}'" if m else " (speaker)") for a, m in self.candidates) or "none"
            return [f"actors found (to confirm next): {found}"], "tension?  l low · m medium · h high    (s skip · u undo · ? keys · q quit)"
        if p == "stance":
            actor, mention = self.candidates[self.cand]
            where = f"named as '{mention}'" if mention else "the speaker, unnamed"
            return [], f"{self._name(actor)}, {where}: p pro-cooperation · c cautious · d deterrence-seeking · n no position"
        if p == "review":
            return [], "Enter save · a add actor · r remove actor · l/m/h tension · t restart · s skip"
        if p == "add-search":
            return [], f"actor to add (part of a name, Enter): {self.buffer}"
        if p == "add-choose":
            return [f"{n}. {self._name(a)}" for n, a in enumerate(self.choices, 1)], "number of the actor (Esc cancels)"
        if p == "add-mention":
            opts = ([f"1. named as '{self.choices[0]}'"] if self.choices else []) + ["0. the speaker, unnamed", "w. type the words naming it"]
            return opts, f"how does the sentence name {self.pending['actor']}?"
        if p == "add-mention-text":
            return [], f"the exact words naming {self.pending['actor']} (Enter): {self.buffer}"
        if p == "add-stance":
            return [], f"stance of {self._name(self.pending['actor'])}: p pro-cooperation · c cautious · d deterrence-seeking"
        if p == "remove":
            return [], f"remove which actor? 1-{len(self.stances)}"
        if p == "skip":
            return [f"{k}. {v}" for k, v in SKIP_REASONS.items()], f"skip: reason number, or type a reason and Enter: {self.buffer}"
        raise AssertionError(p)


class Sink(Protocol):
    """Where answers go (a dataset, or the second annotation); each write returns what undoes it."""

    def done(self) -> tuple[set[str], set[str]]: ...
    def save(self, item: Item, result: Result, selected_by: str) -> Callable[[], Any]: ...


def record_from(item: Item, result: Result, selected_by: str | None = None, annotator: str | None = None) -> dict[str, Any]:
    """A dataset record from a pool item and an answer, keeping the item's provenance."""
    rec: dict[str, Any] = {"id": item["id"], "text": item["text"], "doc": str(item.get("doc_id") or item.get("doc") or item["id"]),
                           "tension": result.tension, "stances": result.stances, "source": item.get("source")}
    for k in PROVENANCE:
        if item.get(k) not in (None, ""):
            rec[k] = str(item[k])
    rec["license"] = item.get("license")
    if selected_by:
        rec["selected_by"] = selected_by
    if annotator:
        rec["annotator"] = annotator
    return rec


class DatasetSink:
    """Labels go to `labels/DATASET.jsonl` (validated with the whole store), skips to `pool/skipped.jsonl`."""

    def __init__(self, dataset: str, labels: str | Path | None = None, annotator: str | None = None):
        self.dataset, self.root, self.annotator = dataset, labels_dir(labels), annotator
        self.skipped = self.root / "pool" / "skipped.jsonl"

    def done(self) -> tuple[set[str], set[str]]:
        """Ids and normalised texts already labelled or skipped: never offered again."""
        from ..data.pool import load_pool

        read = [*(r.data for r in load_records(self.root)), *load_pool(self.root, "skipped")]
        return {o["id"] for o in read}, {normalise_text(o["text"]) for o in read}

    def save(self, item: Item, result: Result, selected_by: str) -> Callable[[], Any]:
        if result.skip is not None:
            from ..data.pool import add_skip

            add_skip(item["id"], result.skip, self.root, selected_by=selected_by, annotator=self.annotator or "")
            return lambda: remove_lines(self.skipped, [item["id"]], self.root)
        rec = record_from(item, result, selected_by, self.annotator)
        append_records(self.dataset, [rec], self.root)
        return lambda: remove_records(self.dataset, [rec["id"]], self.root)


class Order(Protocol):
    """Chooses the next sentence among those still to do; returns it and how it was selected."""

    def pick(self, remaining: list[Item]) -> tuple[Item, str]: ...


class PoolOrder:
    def pick(self, remaining: list[Item]) -> tuple[Item, str]:
        return remaining[0], "pool"


class RandomOrder:
    """A seeded shuffle of the pool, the same on every run, so quitting and resuming keeps the order."""

    def __init__(self, items: list[Item], seed: int = 0):
        ids = [it["id"] for it in items]
        random.Random(seed).shuffle(ids)
        self.rank = {i: n for n, i in enumerate(ids)}

    def pick(self, remaining: list[Item]) -> tuple[Item, str]:
        return min(remaining, key=lambda it: self.rank.get(it["id"], len(self.rank))), "random"


SELECTED_TEXT = {"pool": "pool order", "random": "random", "uncertain": "uncertainty sampling", "agreement": "agreement sample"}


class LabelSession:
    """One labelling session: feeds keys to the form of the sentence on screen, saves, undoes, quits."""

    def __init__(self, items: list[Item], sink: Sink, actors: dict[str, Actor], order: Order | None = None,
                 context: Context | None = None, clock: Callable[[], float] = time.monotonic,
                 on_saved: Callable[[int], None] | None = None):
        self.items, self.sink, self.actors = items, sink, actors
        self.order = order or PoolOrder()
        self.context: Context = context or (lambda item: (None, None))
        self.around: tuple[str | None, str | None] = (None, None)
        self.clock, self.on_saved = clock, on_saved
        self.done, self.texts = sink.done()
        self.norm = {it["id"]: normalise_text(it["text"]) for it in items}
        self.undo_stack: list[tuple[Item, str, Callable[[], Any], str]] = []
        self.answers = 0
        self.started = clock()
        self.form: AnswerForm | None = None
        self.selected_by = ""
        self.finished = False
        self.nothing_left = "nothing left to label: every sentence is labelled or skipped"

    # -- queue --------------------------------------------------------------------------------------
    def remaining(self) -> list[Item]:
        return [it for it in self.items if it["id"] not in self.done and self.norm.get(it["id"], "") not in self.texts]

    def _present(self, item: Item | None = None, selected_by: str = "") -> None:
        if item is None:
            rest = self.remaining()
            if not rest:
                self.form, self.finished = None, True
                return
            item, selected_by = self.order.pick(rest)
        self.form, self.selected_by = AnswerForm(item, self.actors), selected_by
        self.around = self.context(item)

    def start(self) -> Screen:
        self._present()
        return self.screen(self.nothing_left if self.finished else "")

    # -- keys -----------------------------------------------------------------------------------------
    def key(self, k: str) -> Screen:
        if self.finished:
            return self.screen()
        form = self.form
        assert form is not None
        if not form.typing:
            if k == "q":
                return self.quit()
            if k == "?":
                return self.screen("keys:\n" + "\n".join(f"  {a:<10} {b}" for a, b in KEY_HELP))
            if k == "u":
                return self.undo()
        out = form.key(k)
        if isinstance(out, Result):
            return self._save(out)
        return self.screen(out or "")

    def _save(self, result: Result) -> Screen:
        form = self.form
        assert form is not None
        item = form.item
        try:
            undo = self.sink.save(item, result, self.selected_by)
        except LabelError as exc:
            form.phase = "review"
            return self.screen(f"not saved: {exc}")
        self.done.add(item["id"])
        self.texts.add(normalise_text(item["text"]))
        self.undo_stack.append((item, self.selected_by, undo, "skipped" if result.skip is not None else "saved"))
        self.answers += 1
        if self.on_saved is not None:
            self.on_saved(self.answers)
        self._present()
        what = f"skipped {item['id']} ({result.skip})" if result.skip is not None else f"saved {item['id']}"
        return self.screen(what + ("; nothing left to label" if self.finished else ""))

    def undo(self) -> Screen:
        if not self.undo_stack:
            return self.screen("nothing to undo in this session")
        item, selected_by, undo, what = self.undo_stack.pop()
        undo()
        self.done.discard(item["id"])
        self.texts.discard(normalise_text(item["text"]))
        self.answers -= 1
        self.finished = False
        self._present(item, selected_by)
        return self.screen(f"undone: {item['id']} is no longer {what}; answer it again")

    def quit(self) -> Screen:
        self.finished = True
        self.form = None
        return self.screen(f"quit: {self.answers} answer(s) saved this session; run the same command to resume")

    # -- screen ---------------------------------------------------------------------------------------
    def progress(self) -> tuple[int, int, float | None]:
        """(answers saved in this session, sentences remaining, answers per hour in this session)."""
        elapsed = self.clock() - self.started
        rate = self.answers * 3600 / elapsed if elapsed > 0 and self.answers else None
        return self.answers, len(self.remaining()), rate

    def screen(self, message: str = "") -> Screen:
        done, rest, rate = self.progress()
        header = f"{done} done this session · {rest} remaining · " + (f"{rate:.0f}/h" if rate is not None else "–/h")
        if self.form is None:
            return Screen(header=header, message=message, done=True)
        item, form = self.form.item, self.form
        header += f" · {item['id']} · picked by {SELECTED_TEXT.get(self.selected_by.split(':')[0], self.selected_by)}"
        ctx = [(k, str(item[k])) for k in ("speaker", "speaker_country", "date", "title", "source") if item.get(k)]
        before, after = self.around
        options, prompt = form.options_and_prompt()
        status = getattr(self.order, "status", lambda: "")()
        return Screen(header=header, context=ctx, before=before, text=item["text"], after=after, spans=form.spans(),
                      answer=form.answer_lines(), options=options, prompt=prompt, message=message, status=status)


def dataset_session(labels: str | Path | None = None, dataset: str = "user", annotator: str | None = None,
                    order: str = "pool", seed: int = 0, models: str | Path | None = None, refit_every: int = 20,
                    model: str | None = None, clock: Callable[[], float] = time.monotonic, wait: bool = True) -> LabelSession:
    """A session over the pool writing into `labels/DATASET.jsonl` (what `stance-bench label` runs).

    With `order="uncertain"` the first fit runs in the background; `wait=False` starts at once with
    random picks until it is ready (the CLI does this), `wait=True` waits for it (reproducible order).
    """
    lab = labels_dir(labels)
    check_dataset_name(dataset, lab)
    from ..data.pool import load_pool

    actors = load_actors(lab / "actors.toml")
    items = load_pool(lab)
    ctx = pool_context(lab)
    sink = DatasetSink(dataset, lab, annotator)
    on_saved = None
    if order == "pool":
        chooser: Order = PoolOrder()
    elif order == "random":
        chooser = RandomOrder(items, seed)
    elif order == "uncertain":
        from .active import UncertainOrder

        chooser = UncertainOrder(lab, models, actors, seed=seed, refit_every=refit_every, **({"model": model} if model else {}))
        on_saved = chooser.answered
    else:
        raise ValueError(f"unknown order {order!r}: choose pool, uncertain or random")
    session = LabelSession(items, sink, actors, chooser, ctx, clock, on_saved)
    pool_file = lab / "pool" / "unlabelled.jsonl"
    if not pool_file.exists() or not pool_file.read_text(encoding="utf-8").strip():
        session.nothing_left = "the pool is empty: add sentences with `stance-bench pool add FILE`"
    if order == "uncertain":
        chooser.remaining_items = session.remaining
        chooser.refit(session.remaining())
        if wait:
            chooser.wait()
    return session
