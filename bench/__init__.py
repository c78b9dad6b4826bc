"""stance-bench: a benchmark of actors' stances and of tension in alliance-security text.

The public API below is what the `stance-bench` command calls; every command is usable from Python.
Submodules import scikit-learn, datasets and matplotlib only when a function needs them.
"""
from __future__ import annotations

from typing import Any

from .data.schema import STANCES, TASKS, TENSIONS, check_record, load_actors
from .data.splits import SPLITS, assign, doc_side
from .data.store import LabelError, append_records, check_store, fingerprint, load_records

__version__ = "0.1.0"

__all__ = [
    "STANCES", "TENSIONS", "TASKS", "SPLITS", "LabelError",
    "load_records", "check_store", "append_records", "fingerprint", "check_record", "load_actors",
    "assign", "doc_side", "add_sentence", "load_dataset", "export", "train", "evaluate", "predict_file",
    "agreement", "summary", "register", "REGISTRY", "label_session", "second_session", "AdjudicationSession",
    "load_plugin", "ModelSpec",
    "import_records", "add_to_pool", "load_pool", "pool_counts", "postures",
    "test_inputs", "score_predictions", "load_card", "record_results", "evaluate_and_record",
    "annotate", "split_sentences", "find_actors", "compare", "drop_stale",
]


def __getattr__(name: str) -> Any:
    """Lazy access to the parts that import heavy libraries."""
    lazy = {
        "add_sentence": ("annotation.labelling", "add_sentence"), "load_dataset": ("data.hf", "load_dataset"), "export": ("data.hf", "export"),
        "train": ("models.training", "train"), "evaluate": ("scoring.evaluation", "evaluate"), "predict_file": ("models.predict", "predict_file"),
        "agreement": ("annotation.agreement", "agreement"), "summary": ("data.stats", "summary"),
        "register": ("models.registry", "register"), "REGISTRY": ("models.registry", "REGISTRY"), "ModelSpec": ("models.registry", "ModelSpec"),
        "load_plugin": ("models.plugins", "load_module"),
        "label_session": ("annotation.labeller", "dataset_session"), "second_session": ("annotation.adjudication", "second_session"),
        "AdjudicationSession": ("annotation.adjudication", "AdjudicationSession"),
        "import_records": ("data.importing", "import_records"), "add_to_pool": ("data.pool", "add_to_pool"),
        "load_pool": ("data.pool", "load_pool"), "pool_counts": ("data.pool", "pool_counts"), "postures": ("analysis.postures", "postures"),
        "test_inputs": ("scoring.submission", "test_inputs"), "score_predictions": ("scoring.submission", "score_predictions"),
        "load_card": ("scoring.cards", "load_card"), "record_results": ("scoring.recording", "record_results"),
        "evaluate_and_record": ("scoring.recording", "evaluate_and_record"),
        "annotate": ("analysis.annotate", "annotate"), "split_sentences": ("data.sentences", "split_sentences"), "find_actors": ("data.gazetteer", "detect"),
        "compare": ("scoring.comparison", "compare"), "drop_stale": ("scoring.leaderboard", "drop_stale"),
    }
    if name in lazy:
        import importlib

        mod, attr = lazy[name]
        return getattr(importlib.import_module(f".{mod}", __name__), attr)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
