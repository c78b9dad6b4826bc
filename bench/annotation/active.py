"""Active learning for the labeller: uncertainty sampling by the margin of the current model.

The model ranks pool sentences by its margin (top-1 minus top-2 probability; the smallest is the
one it is least sure of) and mixes in about 10% random picks so the labelled data stays
representative. It is refitted, with its chosen parameters and no search, every N answers in a
background thread, and the new ranking is swapped in when ready, so nobody waits for it. The model
only chooses which sentence comes next: its predictions never leave this module.
"""
from __future__ import annotations

import json
import math
import random
import threading
from pathlib import Path
from typing import Any, Callable

from ..data.schema import Actor
from ..data.store import labels_dir, load_records, models_dir

MODEL = "tfidf-lr"
RANDOM_SHARE = 0.1
RANKED_TASKS = ("stance", "tension")
"""The decisions whose margins rank a sentence: its tension and each suggested actor's stance."""

Item = dict[str, Any]


def chosen_params(model: str, task: str, models: str | Path | None = None, split: str = "document") -> dict[str, Any]:
    """The parameters training chose for a model, from its saved manifest; {} (the defaults) if none."""
    from ..models.artifacts import manifest_path, model_path

    path = manifest_path(model_path(models_dir(models), model, task, split))
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")).get("params") or {})
    except (OSError, ValueError):
        return {}


def fit(model: str, task: str, labels: str | Path | None, actors: dict[str, Actor], params: dict[str, Any],
        seed: int = 0) -> Any | None:
    """The model fitted on every labelled record with fixed parameters; None when there are fewer than two classes."""
    from ..data.features import examples
    from ..models.registry import require

    ex = examples(load_records(labels), task, actors)
    if len(set(ex.y)) < 2:
        return None
    est = require(model, task).factory(task, seed)
    if params:
        est.set_params(**params)
    return est.fit(ex.X, ex.y)


def margin_scores(proba: Any) -> Any:
    """Top-1 minus top-2 probability per row (0 = undecided between two labels)."""
    import numpy as np

    p = np.sort(np.asarray(proba, dtype=float), axis=1)
    return p[:, -1] - p[:, -2]


def item_margins(items: list[Item], estimators: dict[str, Any], actors: dict[str, Actor]) -> dict[str, float]:
    """Each item's smallest margin over its decisions: the tension, and the stance of every suggested actor."""
    import pandas as pd

    from ..data.features import stance_row
    from .labeller import suggest_actors_in

    out = {it["id"]: math.inf for it in items}
    if not items:
        return out
    if estimators.get("tension") is not None:
        m = margin_scores(estimators["tension"].predict_proba(pd.DataFrame({"text": [it["text"] for it in items]})))
        for it, v in zip(items, m):
            out[it["id"]] = min(out[it["id"]], float(v))
    if estimators.get("stance") is not None:
        rows, owners = [], []
        for it in items:
            for actor, mention in suggest_actors_in(it["text"], actors, it.get("speaker_country")):
                rows.append(stance_row(it["text"], actor, mention, actors))
                owners.append(it["id"])
        if rows:
            for owner, v in zip(owners, margin_scores(estimators["stance"].predict_proba(pd.DataFrame(rows)))):
                out[owner] = min(out[owner], float(v))
    return out


class UncertainOrder:
    """The labeller's `--order uncertain`: smallest margin first, about 10% random, refitted every N answers."""

    def __init__(self, labels: str | Path | None, models: str | Path | None, actors: dict[str, Actor],
                 model: str = MODEL, seed: int = 0, refit_every: int = 20, random_share: float = RANDOM_SHARE):
        self.labels, self.models, self.actors, self.model = labels_dir(labels), models, actors, model
        self.seed, self.refit_every, self.random_share = seed, refit_every, random_share
        from ..models.registry import require

        for t in RANKED_TASKS:  # an unknown model, or one whose extra is missing, is refused before labelling starts
            require(model, t)
        self.rng = random.Random(seed)
        self.params = {t: chosen_params(model, t, models) for t in RANKED_TASKS}
        self.margins: dict[str, float] = {}
        self.fits = 0
        self.since_fit = 0
        self.remaining_items: Callable[[], list[Item]] = list
        self._thread: threading.Thread | None = None
        self._ready: dict[str, float] | None = None
        self.error: BaseException | None = None

    def compute(self, items: list[Item]) -> dict[str, float]:
        """Fit both tasks' models on the labelled data and score the items (runs in the refit thread)."""
        ests = {t: fit(self.model, t, self.labels, self.actors, self.params[t], self.seed) for t in RANKED_TASKS}
        return item_margins(items, ests, self.actors)

    def refit(self, items: list[Item]) -> bool:
        """Start fitting and scoring `items` in a background thread (unless one is running)."""
        if self._thread is not None:
            return False
        self._thread = threading.Thread(target=self._refit, args=(items,), daemon=True, name="stance-bench-refit")
        self._thread.start()
        return True

    @property
    def fitting(self) -> bool:
        return self._thread is not None

    def answered(self, n_answers: int) -> None:
        """Called after every saved answer: start a background refit every `refit_every` answers."""
        self.since_fit += 1
        if self.since_fit >= self.refit_every and self.refit(self.remaining_items()):
            self.since_fit = 0

    def _refit(self, items: list[Item]) -> None:
        try:
            self._ready, self.error = self.compute(items), None
        except BaseException as exc:  # a failed refit keeps the old ranking; the labeller goes on
            self.error = exc

    def status(self) -> str:
        """A line for the screen about the ranking model (never about its predictions)."""
        self.poll()
        if self._thread is None:
            if self.error is not None:
                return f"ranking model failed ({type(self.error).__name__}: {self.error}); keeping the last ranking"
            return "" if self.margins else "ranking model: too few labels to fit, random picks"
        return "ranking model: refitting in the background" if self.fits else \
            "ranking model: fitting in the background, random picks until it is ready"

    def poll(self) -> None:
        """Swap in a finished refit."""
        if self._thread is not None and not self._thread.is_alive():
            self._thread = None
            if self._ready is not None:
                self.margins, self._ready = self._ready, None
                self.fits += 1

    def wait(self) -> None:
        """Block until a running refit is done (tests, and the end of a session)."""
        if self._thread is not None:
            self._thread.join()
        self.poll()

    def pick(self, remaining: list[Item]) -> tuple[Item, str]:
        self.poll()
        draw = self.rng.random()
        scored = [(self.margins.get(it["id"], math.inf), n) for n, it in enumerate(remaining)]
        best, n = min(scored)
        if draw < self.random_share or not math.isfinite(best):
            return remaining[self.rng.randrange(len(remaining))], "random"
        return remaining[n], f"uncertain:{best:.4f}"
