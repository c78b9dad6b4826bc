from __future__ import annotations

from pathlib import Path

import pytest

from bench.annotation.labelling import add_sentence
from bench.data.store import LabelError


def test_text_that_is_not_valid_unicode_is_refused_not_crashed(labels: Path) -> None:
    """Invalid UTF-8 on the command line reaches Python as lone surrogates ('\\udcff')."""
    before = {p.name: p.read_bytes() for p in labels.glob("*.jsonl")}
    with pytest.raises(LabelError, match=r"user.jsonl:1: text: holds a lone surrogate '\\udcff' at character 8"):
        add_sentence("Moscow \udcff warned NATO.", tension="high", doc="d", source="s", license="CC0-1.0",
                     actors=["RUS=cautious"], labels=labels)
    assert {p.name: p.read_bytes() for p in labels.glob("*.jsonl")} == before
