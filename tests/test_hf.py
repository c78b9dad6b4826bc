from __future__ import annotations

from pathlib import Path

from bench.data.hf import export, load_dataset
from bench.data.schema import STANCES, TENSIONS
from bench.data.splits import select
from bench.data.store import load_records


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


def test_re_export_after_new_labels_is_not_served_from_the_cache(labels: Path, tmp_path: Path) -> None:
    """`datasets` caches a local folder by name: a second export of changed data must still load fresh."""
    import datasets

    from bench.data.store import append_records

    cache = str(tmp_path / "cache")
    out = tmp_path / "hf"
    export(out, labels=labels)
    first = datasets.load_dataset(str(out), "tension", cache_dir=cache)
    append_records("user", [{"id": "x-1", "text": "An added sentence about NATO and Moscow.", "doc": "x-doc",
                             "tension": "low", "stances": [], "source": "t", "license": "CC0-1.0"}], labels)
    export(out, labels=labels)
    second = datasets.load_dataset(str(out), "tension", cache_dir=cache)
    assert len(second["train"]) + len(second["test"]) == len(first["train"]) + len(first["test"]) + 1
    assert len(list((out / "tension").glob("*.parquet"))) == 2  # the old files are gone


def test_card_lists_the_licence_of_every_dataset_including_a_users(labels: Path, tmp_path: Path) -> None:
    from bench.data.store import append_records

    append_records("mine", [{"id": "mine-1", "text": "An added sentence about NATO and Moscow.", "doc": "mine-doc",
                             "tension": "low", "stances": [], "source": "t", "license": "CC-BY-SA-4.0 <b>|x"}], labels)
    card = (export(tmp_path / "hf", labels=labels) / "README.md").read_text()
    present = {r.dataset for r in load_records(labels)}
    for name in present:
        assert f"- **{name}**: " in card
    assert r"- **mine**: CC\-BY\-SA\-4.0" not in card and r"- **mine**: CC-BY-SA-4.0 &lt;b&gt;\|x (1 sentence)" in card
