"""The three tasks in one table: labels, metrics, ranking metric, leaderboard columns, CV scoring.

Code that handles every task (training, evaluation, the leaderboard, recording) looks a task up
here instead of branching on its name, so adding a task is one row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .schema import labels_for

if TYPE_CHECKING:
    from ..scoring.metrics import Metric

ACTOR_SEP = "|"
"""Separator of the actor ids in an actors-task label: "NATO|RUS" (sorted); "" is the empty set."""


@dataclass(frozen=True)
class TaskSpec:
    name: str
    example: str
    """What one example is."""
    labels: tuple[str, ...]
    """Label order of the confusion matrices (for `actors`: the pair outcome, see schema.ACTOR_SET)."""
    primary: str
    columns: tuple[str, ...]
    """Headline metrics shown in leaderboard tables, primary first."""
    lower_is_better: frozenset[str] = frozenset()
    per_source: bool = True
    """Whether macro-F1 per source means something for the task."""
    confusion_plot: bool = True
    """Whether a class confusion matrix is a picture worth drawing (not for the actors task's pair counts)."""

    @property
    def metrics(self) -> dict[str, Metric]:
        from ..scoring.metrics import HEADLINE

        return HEADLINE[self.name]

    @property
    def primary_metric(self) -> Metric:
        return self.metrics[self.primary]


TASK_SPECS: dict[str, TaskSpec] = {
    "stance": TaskSpec("stance", "a (sentence, actor) pair", labels_for("stance"), "macro_f1",
                       ("macro_f1", "f_pol", "accuracy", "severe_error_rate"), frozenset({"severe_error_rate"})),
    "tension": TaskSpec("tension", "a sentence", labels_for("tension"), "macro_f1",
                        ("macro_f1", "accuracy", "mae", "qwk"), frozenset({"mae"})),
    "actors": TaskSpec("actors", "a sentence with its context; the label is its set of actors", labels_for("actors"),
                       "f1", ("f1", "precision", "recall"), per_source=False, confusion_plot=False),
}


def spec(task: str) -> TaskSpec:
    labels_for(task)  # the one place an unknown task is refused, with the list of tasks
    return TASK_SPECS[task]


def encode_set(actors: Sequence[str]) -> str:
    return ACTOR_SEP.join(sorted(set(actors)))


def decode_set(label: str) -> set[str]:
    return {a for a in str(label).split(ACTOR_SEP) if a}


def scored_pairs(task: str, y_true: Sequence[str], y_pred: Sequence[str], docs: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """The (gold, predicted, document) lists the confusion-matrix metrics take.

    Stance and tension: as given. Actors: one pair per actor in the gold or predicted set of a
    sentence (`present`/`absent` on each side), plus one (`absent`, `absent`) entry per sentence,
    which no metric uses but which keeps every test document in the per-document counts, so that
    two models are always compared on the same documents.
    """
    if task != "actors":
        return list(y_true), list(y_pred), list(docs)
    gold, pred, out_docs = [], [], []
    for t, p, d in zip(y_true, y_pred, docs):
        T, P = decode_set(t), decode_set(p)
        for a in sorted(T | P):
            gold.append("present" if a in T else "absent")
            pred.append("present" if a in P else "absent")
            out_docs.append(d)
        gold.append("absent")
        pred.append("absent")
        out_docs.append(d)
    return gold, pred, out_docs


def set_f1(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Micro actor-set F1 of encoded sets (the actors task's CV score)."""
    from ..scoring.metrics import confusion, set_f1_score

    g, p, _ = scored_pairs("actors", y_true, y_pred, ["d"] * len(y_true))
    return float(set_f1_score(confusion(g, p, labels_for("actors"))))


def cv_scoring(task: str) -> Any:
    """What GridSearchCV scores a task's candidates by (the task's primary metric)."""
    if task != "actors":
        return "f1_macro"
    from sklearn.metrics import make_scorer

    return make_scorer(set_f1)


def cv_splitter(task: str, seed: int, n_folds: int, default: Callable[[], Any]) -> Any:
    """Grouped folds; the actors task's labels are sets, so its folds are grouped but not stratified."""
    if task != "actors":
        return default()
    from sklearn.model_selection import GroupKFold

    return GroupKFold(n_splits=n_folds)
