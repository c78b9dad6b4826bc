from __future__ import annotations

from pathlib import Path

import pytest

from bench.data.features import examples
from bench.data.schema import load_actors
from bench.data.splits import select
from bench.data.store import load_records
from bench.models.training import parallel, search

pytest.importorskip("distributed")


def test_dask_search_on_two_loopback_workers_matches_in_process(labels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)  # a user's own setting would be kept
    records = load_records(labels)
    ex = examples(select(records, "document", "train"), "tension", load_actors(labels / "actors.toml"))
    _, local_params, local_score = search("tfidf-cnb", "tension", ex.X, ex.y, ex.groups, seed=0, n_jobs=1)
    with parallel("dask", workers=2) as n_jobs:
        from distributed import get_client

        client = get_client()
        assert len(client.scheduler_info()["workers"]) == 2
        assert client.scheduler.address.startswith("tcp://127.0.0.1")
        # no MALLOC_TRIM_THRESHOLD_ from Dask's defaults (it made every solver fit ~1.7x slower, #10)
        import os

        trim = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
        assert set(trim.values()) == {None}
        _, dask_params, dask_score = search("tfidf-cnb", "tension", ex.X, ex.y, ex.groups, seed=0, n_jobs=n_jobs)
    assert dask_params == local_params and dask_score == pytest.approx(local_score)


def test_an_unreachable_scheduler_is_one_line_naming_the_address() -> None:
    import socket

    from typer.testing import CliRunner

    from bench.cli import app
    from bench.models.cluster import SchedulerError

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(SchedulerError, match=address):
        with parallel("dask", scheduler=address, connect_timeout=0.5):
            pass
    res = CliRunner().invoke(app, ["train", "-m", "majority", "--backend", "dask", "--scheduler", address, "--connect-timeout", "0.5"])
    assert res.exit_code == 1 and address in res.output and "Traceback" not in res.output
    assert res.exc_info is None or res.exc_info[0] is SystemExit
