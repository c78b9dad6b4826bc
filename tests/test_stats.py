from __future__ import annotations

from pathlib import Path

from bench.stats import source_name, summary
from bench.store import load_records


def test_summary_counts_add_up(labels: Path) -> None:
    records = load_records(labels)
    s = summary(labels)
    assert s["sentences"] == len(records) == sum(v["sentences"] for v in s["by_dataset"].values())
    assert s["stances"] == sum(len(r["stances"]) for r in records)
    assert sum(v["train"] + v["test"] for v in s["labels"]["tension"].values()) == len(records)
    assert sum(v["all"] for v in s["actors"].values()) == s["stances"]
    assert sum(s["by_source"].values()) == len(records)


def test_source_names_drop_the_mirror() -> None:
    assert source_name("UNGDC (UN General Debate Corpus v12, via github:a/b)") == "UNGDC"
    assert source_name("en.kremlin.ru (President of Russia website) via github:c/d") == "en.kremlin.ru"
    assert source_name("English Wikinews via github:e/f") == "English Wikinews"
