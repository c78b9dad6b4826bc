from __future__ import annotations

from pathlib import Path

import pytest

from bench.features import examples
from bench.schema import load_actors
from bench.splits import select
from bench.store import load_records
from bench.training import parallel, search

pytest.importorskip("distributed")


def test_dask_search_on_two_loopback_workers_matches_in_process(labels: Path) -> None:
    records = load_records(labels)
    ex = examples(select(records, "document", "train"), "tension", load_actors(labels / "actors.toml"))
    _, local_params, local_score = search("tfidf-cnb", "tension", ex.X, ex.y, ex.groups, seed=0, n_jobs=1)
    with parallel("dask", workers=2) as n_jobs:
        from distributed import get_client

        client = get_client()
        assert len(client.scheduler_info()["workers"]) == 2
        assert client.scheduler.address.startswith("tcp://127.0.0.1")
        _, dask_params, dask_score = search("tfidf-cnb", "tension", ex.X, ex.y, ex.groups, seed=0, n_jobs=n_jobs)
    assert dask_params == local_params and dask_score == pytest.approx(local_score)
