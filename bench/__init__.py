"""stance-bench: a benchmark of actors' stances and of tension in alliance-security text.

The public API below is what the `stance-bench` command calls; every command is usable from Python.
Submodules import scikit-learn, datasets and matplotlib only when a function needs them.
"""
from __future__ import annotations

from typing import Any

from .schema import STANCES, TASKS, TENSIONS, check_record, load_actors
from .splits import SPLITS, assign, doc_side
from .store import LabelError, append_records, check_store, fingerprint, load_records

__version__ = "0.1.0"

__all__ = [
    "STANCES", "TENSIONS", "TASKS", "SPLITS", "LabelError",
    "load_records", "check_store", "append_records", "fingerprint", "check_record", "load_actors",
    "assign", "doc_side", "add_sentence", "load_dataset", "export", "train", "evaluate", "predict_file",
    "agreement", "summary", "register", "REGISTRY", "label_session", "second_session", "AdjudicationSession",
    "load_plugin", "ModelSpec",
    "import_records", "add_to_pool", "load_pool", "pool_counts", "postures",
    "test_inputs", "score_predictions", "load_card", "record_results", "evaluate_and_record",
    "annotate", "split_sentences", "find_actors",
]


def __getattr__(name: str) -> Any:
    """Lazy access to the parts that import heavy libraries."""
    lazy = {
        "add_sentence": ("labelling", "add_sentence"), "load_dataset": ("hf", "load_dataset"), "export": ("hf", "export"),
        "train": ("training", "train"), "evaluate": ("evaluation", "evaluate"), "predict_file": ("predict", "predict_file"),
        "agreement": ("agreement", "agreement"), "summary": ("stats", "summary"),
        "register": ("models", "register"), "REGISTRY": ("models", "REGISTRY"), "ModelSpec": ("models", "ModelSpec"),
        "load_plugin": ("plugins", "load_module"),
        "label_session": ("labeller", "dataset_session"), "second_session": ("adjudication", "second_session"),
        "AdjudicationSession": ("adjudication", "AdjudicationSession"),
        "import_records": ("importing", "import_records"), "add_to_pool": ("pool", "add_to_pool"),
        "load_pool": ("pool", "load_pool"), "pool_counts": ("pool", "pool_counts"), "postures": ("postures", "postures"),
        "test_inputs": ("submission", "test_inputs"), "score_predictions": ("submission", "score_predictions"),
        "load_card": ("cards", "load_card"), "record_results": ("recording", "record_results"),
        "evaluate_and_record": ("recording", "evaluate_and_record"),
        "annotate": ("annotate", "annotate"), "split_sentences": ("sentences", "split_sentences"), "find_actors": ("gazetteer", "detect"),
    }
    if name in lazy:
        import importlib

        mod, attr = lazy[name]
        return getattr(importlib.import_module(f".{mod}", __name__), attr)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
