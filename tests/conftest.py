"""Shared fixtures: a small copy of the real labels, and models trained on it once per session."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Tests run on shared, loaded 2-core machines, often without a Hypothesis cache: never judge a test
# by the clock. No deadlines, no speed health checks, in CI and locally alike.
settings.register_profile("stance-bench", deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much, HealthCheck.large_base_example])
settings.load_profile("stance-bench")

REPO = Path(__file__).resolve().parent.parent
LABELS = REPO / "labels"


def small_labels(dest: Path, docs_per_dataset: int = 30) -> Path:
    """A labels folder with the registry and the first documents (sorted) of each real dataset."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(LABELS / "actors.toml", dest / "actors.toml")
    for path in sorted(LABELS.glob("*.jsonl")):
        recs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        keep = set(sorted({r["doc"] for r in recs})[:docs_per_dataset])
        (dest / path.name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs if r["doc"] in keep))
    return dest


@pytest.fixture()
def labels(tmp_path: Path) -> Path:
    """A writable copy of a small real dataset (function scope: tests may change it)."""
    return small_labels(tmp_path / "labels", docs_per_dataset=8)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(labels, models) with majority, actor-prior and tfidf-lr trained on a small real dataset."""
    from bench.models.training import train

    root = tmp_path_factory.mktemp("trained")
    lab = small_labels(root / "labels", docs_per_dataset=30)
    mod = root / "models"
    for name, tasks in (("majority", ("stance", "tension")), ("actor-prior", ("stance",)), ("tfidf-lr", ("stance", "tension"))):
        for task in tasks:
            train(name, task, "document", 0, lab, mod)
    return lab, mod


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pool_labels(dest: Path, dataset: str = "kremlin", docs_per_dataset: int = 8) -> tuple[Path, list[dict]]:
    """A small labels folder whose `dataset` records are moved back into `pool/unlabelled.jsonl`
    (real sentences with their provenance, in file order), so the labeller has something to offer."""
    lab = small_labels(dest, docs_per_dataset)
    pool = []
    for n, r in enumerate(read(lab / f"{dataset}.jsonl")):
        item = {"id": r["id"], "text": r["text"], "source": r["source"], "doc_id": r["doc"], "sent_index": n,
                "license": r["license"]}
        item.update({k: r[k] for k in ("date", "speaker", "speaker_country", "title", "url") if k in r})
        pool.append(item)
    (lab / f"{dataset}.jsonl").unlink()
    (lab / "pool").mkdir(exist_ok=True)
    (lab / "pool" / "unlabelled.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pool))
    (lab / "pool" / "skipped.jsonl").write_text("")
    return lab, pool
