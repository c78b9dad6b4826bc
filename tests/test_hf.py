from __future__ import annotations

from pathlib import Path

from bench.hf import export, load_dataset
from bench.schema import STANCES, TENSIONS
from bench.splits import select
from bench.store import load_records


def test_dataset_dict_with_fixed_class_labels(labels: Path) -> None:
    dd = load_dataset("stance", labels=labels)
    assert set(dd) == {"train", "test"}
    assert dd["train"].features["label"].names == list(STANCES)
    assert load_dataset("tension", labels=labels)["train"].features["label"].names == list(TENSIONS)
    records = load_records(labels)
    n_test = sum(len(r["stances"]) for r in select(records, "document", "test"))
    assert len(dd["test"]) == n_test
    row = dd["train"][0]
    assert row["actor"] and STANCES[row["label"]] and row["license"]


def test_export_round_trips_through_datasets(labels: Path, tmp_path: Path) -> None:
    import datasets

    out = export(tmp_path / "hf", labels=labels)
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "license:" in card and "0 = pro-cooperation" in card and "kremlin.ru" in card
    back = datasets.load_dataset(str(out), "tension", cache_dir=str(tmp_path / "cache"))
    ref = load_dataset("tension", labels=labels)
    assert back["train"].features["label"].names == list(TENSIONS)
    assert len(back["train"]) == len(ref["train"]) and back["test"]["id"] == ref["test"]["id"]
    stance = datasets.load_dataset(str(out), "stance", cache_dir=str(tmp_path / "cache"))
    assert stance["test"]["label"] == ref_labels(labels)


def ref_labels(labels: Path) -> list[int]:
    return load_dataset("stance", labels=labels)["test"]["label"]
