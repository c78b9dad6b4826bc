"""The labels as a Hugging Face dataset: `load_dataset(task)` and `export(DIR)` with a dataset card.

Label maps are declared as ClassLabel in the fixed order of `bench.data.schema` (never sorted by the
library), so label ids mean the same thing in every copy.
"""
from __future__ import annotations

import collections
import os
from pathlib import Path
from typing import Any

from . import splits
from .features import rows
from .markdown import escape
from .outputs import output_folder
from .schema import TASKS, labels_for, load_actors
from .store import Record, fingerprint, labels_dir, load_records

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
MARKER = ".stance-bench-export"


class ExportError(ValueError):
    """An export folder that holds something else: refused rather than overwritten."""

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONTEXT = ("speaker", "speaker_country", "date", "title", "source")
"""Context fields of the actors config (the task's input besides the sentence)."""
LICENSES = {
    "un-debates": "CC0-1.0 (UN General Debate Corpus, Harvard Dataverse doi:10.7910/DVN/0TJX8Y)",
    "kremlin": "CC-BY-4.0 (en.kremlin.ru; attribute kremlin.ru and keep each record's url)",
    "us-presidents": "public domain (US federal government works; Miller Center transcripts)",
    "seed-news": "news excerpts (copyright of their publishers) and English Wikinews (CC-BY-2.5, keep url)",
}


def features(task: str) -> Any:
    from datasets import ClassLabel, Features, Sequence, Value

    cols = {"id": Value("string"), "text": Value("string")}
    if task == "actors":
        return Features({**cols, **{c: Value("string") for c in CONTEXT}, "actors": Sequence(Value("string")),
                         "doc": Value("string"), "dataset": Value("string"), "url": Value("string"),
                         "license": Value("string")})
    if task == "stance":
        cols.update({"actor": Value("string"), "bloc": Value("string"), "mention": Value("string")})
    cols.update({"label": ClassLabel(names=list(labels_for(task))), "doc": Value("string"),
                 "dataset": Value("string"), "date": Value("string"), "source": Value("string"),
                 "url": Value("string"), "license": Value("string")})
    return Features(cols)


def _actor_table(records: list[Record]) -> dict[str, list[Any]]:
    """The actors config: the sentence, its context, and the sorted list of actor ids taking a stance."""
    out: dict[str, list[Any]] = collections.defaultdict(list)
    for r in records:
        out["id"].append(r.id)
        out["text"].append(r["text"])
        for c in CONTEXT:
            out[c].append(r.get(c))
        out["actors"].append(sorted({s["actor"] for s in r["stances"]}))
        out["doc"].append(r["doc"])
        out["dataset"].append(r.dataset)
        out["url"].append(r.get("url"))
        out["license"].append(r.get("license"))
    return out


def _table(records: list[Record], task: str, actors: dict) -> dict[str, list[Any]]:
    if task == "actors":
        return _actor_table(records)
    labels = labels_for(task)
    by_id = {r.id: r for r in records}
    data, y = rows(records, task, actors)
    out: dict[str, list[Any]] = collections.defaultdict(list)
    for row, lab in zip(data, y):
        rec = by_id[row["id"].split("::")[0]]
        out["id"].append(row["id"])
        out["text"].append(row["text"])
        if task == "stance":
            out["actor"].append(row["actor"])
            out["bloc"].append(row["bloc"])
            st = next(s for s in rec["stances"] if s["actor"] == row["actor"])
            out["mention"].append(st.get("mention"))
        out["label"].append(labels.index(lab))
        out["doc"].append(rec["doc"])
        out["dataset"].append(rec.dataset)
        for f in ("date", "source", "url", "license"):
            out[f].append(rec.get(f))
    return out


def load_dataset(task: str, split: str = "document", labels: str | Path | None = None) -> Any:
    """A `datasets.DatasetDict` with `train` and `test` for one task and split."""
    from datasets import Dataset, DatasetDict

    lab = labels_dir(labels)
    records = load_records(lab)
    actors = load_actors(lab / "actors.toml")
    feats = features(task)
    return DatasetDict({side: Dataset.from_dict(_table(splits.select(records, split, side), task, actors), features=feats)
                        for side in ("train", "test")})


def export(out: str | Path, split: str = "document", labels: str | Path | None = None) -> Path:
    """Parquet files per task and side plus a dataset card that `datasets.load_dataset(DIR)` reads.

    File names carry the data fingerprint: `datasets` caches a local folder by its name and
    configuration, so new data must mean new file names or a reload would serve the old cache.
    The folder must be new, empty, or an earlier export (never a folder with other files).
    """
    import datasets

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file: give a folder for the export")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ExportError(f"{out} is not empty and holds no earlier export: choose a new or empty folder")
    lab = labels_dir(labels)
    fp = fingerprint(lab)
    datasets.disable_progress_bars()
    dds = {task: load_dataset(task, split, lab) for task in TASKS}
    sizes = {task: {side: len(ds) for side, ds in dd.items()} for task, dd in dds.items()}
    records = load_records(lab)
    with output_folder(out):
        for task, dd in dds.items():
            with output_folder(out / task) as folder:
                for old in folder.glob("*.parquet"):
                    old.unlink()
                for side, ds in dd.items():
                    ds.to_parquet(str(folder / f"{side}-{fp}.parquet"))
        (out / "README.md").write_text(card(sizes, records, splits.describe(records, split), fp))
        (out / MARKER).write_text(fp + "\n")
    return out


def licences(records: list[Record]) -> dict[str, str]:
    """The licence line of every dataset in the store: the known description of a built-in dataset,
    else the distinct `license` values of its records (a user's dataset is listed too)."""
    values: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in records:
        values[r.dataset][r["license"]] += 1
    out = {}
    for name, counts in sorted(values.items()):
        if name in LICENSES:
            out[name] = escape(LICENSES[name])
        else:
            out[name] = "; ".join(f"{escape(lic)} ({n} sentence{'s' if n != 1 else ''})" for lic, n in counts.most_common())
    return out


def card(sizes: dict[str, dict[str, int]], records: list[Record], split: str, fp: str) -> str:
    per_dataset = collections.Counter(r.dataset for r in records)
    configs = []
    for i, task in enumerate(TASKS):
        configs.append(f"- config_name: {task}\n" + ("  default: true\n" if i == 0 else "") +
                       f"  data_files:\n  - split: train\n    path: {task}/train-{fp}.parquet\n"
                       f"  - split: test\n    path: {task}/test-{fp}.parquet")
    header = ["---", "license: other", "license_name: mixed (see Licences)", "language:\n- en",
              "task_categories:\n- text-classification", "pretty_name: stance-bench",
              "configs:", *configs, "---"]
    body = [
        "# stance-bench", "",
        "Sentences about alliance security (NATO, Russia and the Soviet Union, the Baltic states, Ukraine, "
        "Georgia) labelled, by reading each sentence, for the **tension** they describe and the **stance** of each "
        "named actor (annotator agents working from written guidelines; reviewed and adjudicated; see the project README).", "",
        f"Data fingerprint `{fp}`; split {split} (whole documents stay on one side).", "",
        "## Label maps", "",
        "- stance: " + ", ".join(f"{i} = {n}" for i, n in enumerate(labels_for("stance"))),
        "- tension: " + ", ".join(f"{i} = {n}" for i, n in enumerate(labels_for("tension"))),
        "- actors: no label map; `actors` lists the registry ids (labels/actors.toml) of the actors taking a stance "
        "in the sentence, given its context (`speaker`, `speaker_country`, `date`, `title`, `source`)", "",
        "## Sizes", "", "| task | train | test |", "|---|---|---|",
        *[f"| {t} | {s['train']} | {s['test']} |" for t, s in sizes.items()], "",
        "Sentences per source dataset: " + ", ".join(f"{k} {v}" for k, v in sorted(per_dataset.items())), "",
        "## Sources and licences", "",
        *[f"- **{k}**: {v}" for k, v in licences(records).items()], "",
        "Every row keeps its own `source`, `url` (where known) and `license`; reusing kremlin.ru text requires "
        "attribution to kremlin.ru (CC BY 4.0), Wikinews text attribution to Wikinews (CC BY 2.5).", "",
    ]
    return "\n".join(header) + "\n" + "\n".join(body)

