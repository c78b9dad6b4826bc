from __future__ import annotations

from pathlib import Path

from bench.data.stats import source_name, summary
from bench.data.store import load_records


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


def test_summary_counts_how_sentences_were_selected(labels: Path) -> None:
    from bench.data.store import append_records

    base = {"doc": "d", "tension": "low", "stances": [], "source": "test", "license": "CC0-1.0"}
    append_records("user", [{**base, "id": "s-1", "text": "One sentence here.", "selected_by": "uncertain:0.0123"},
                            {**base, "id": "s-2", "text": "Another sentence here.", "selected_by": "random"}], labels)
    s = summary(labels)
    assert s["by_selection"]["uncertain"] == 1 and s["by_selection"]["random"] == 1
    assert s["by_selection"]["not recorded"] == s["sentences"] - 2
