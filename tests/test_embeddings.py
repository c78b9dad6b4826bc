from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.models import embeddings


class FakeModel:
    """Stands in for MiniLM: counts what it is asked to embed."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, **kwargs):  # noqa: ANN001
        self.seen += list(texts)
        return np.array([[len(t), t.count("NATO"), 1.0] for t in texts], dtype=np.float32)


def test_embeddings_are_cached_by_text_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeModel()
    monkeypatch.setenv("STANCE_BENCH_EMBED_CACHE", str(tmp_path / "cache.sqlite"))
    monkeypatch.setattr(embeddings, "_model", lambda: fake)
    first = embeddings.embed(["NATO met.", "Russia objected.", "NATO met."])
    assert fake.seen == ["NATO met.", "Russia objected."]  # duplicates embedded once
    again = embeddings.MiniLMEmbedder().fit_transform(["Russia objected.", "NATO met.", "New one."])
    assert fake.seen[2:] == ["New one."]  # only the unseen text is computed
    assert np.array_equal(again[1], first[0]) and again.shape == (3, 3)


def test_minilm_model_needs_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from bench.models.registry import available

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert not available("minilm-lr")
    assert available("tfidf-lr")
