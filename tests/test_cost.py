"""benchmarks/cost.py: the cost-curve measurements read the right memory and write where they should."""
from __future__ import annotations

import importlib.util
import json
import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from bench.data.schema import load_actors

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("cost", REPO / "benchmarks" / "cost.py")
cost = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cost)


def _hold(mib: int) -> int:
    """Make `mib` MiB resident in a worker (bytes written, not a lazily zeroed allocation), then free them."""
    block = b"x" * (mib << 20)
    return len(block)


def test_worker_peaks_are_the_workers_own_high_water_marks() -> None:
    mine = cost.vm_hwm_mib()
    with cost.WorkerPeaks(interval=0.02) as watch:
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            assert pool.submit(_hold, 300).result() == 300 << 20
            for _ in range(500):  # until a poll has seen the worker after its allocation
                if max(watch.peaks.values(), default=0) > 300 * 1024:
                    break
                time.sleep(0.02)
    assert len(watch.peaks) == 1  # the worker only: not this process, not the resource tracker
    worker = max(watch.peaks.values()) / 1024
    assert worker > 300
    assert cost.vm_hwm_mib() < mine + 150  # the 300 MiB were the worker's, not counted here
    assert cost.vm_hwm_kib(2**22 + 7) is None  # a process that is gone (pid beyond pid_max)


def test_predict_input_is_resampled_real_sentences(labels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCE_BENCH_LABELS", str(labels))
    monkeypatch.setattr(cost, "CHUNK", 70)  # several chunks
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    path = cost.predict_input(250, a)
    assert path.read_bytes() == cost.predict_input(250, b).read_bytes()  # seeded: the same file every time
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    texts = {d["text"] for d in cost.base_rows()[0]}
    actors = load_actors(labels / "actors.toml")
    assert len(recs) == 250 and all(set(r) == {"text", "actor"} for r in recs)
    assert all(r["text"] in texts and r["actor"] in actors for r in recs)
    assert not list(a.glob("*.part"))


def test_train_out_of_core_writes_beside_not_over_the_models(labels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.models import artifacts

    monkeypatch.setenv("STANCE_BENCH_LABELS", str(labels))
    monkeypatch.setattr(cost, "CHUNK", 100)
    (tmp_path / "hashing-sgd.params.json").write_text(json.dumps({"clf__alpha": 1e-4}))
    models = tmp_path / "models"
    # a trained model already in MODELS, which is also the default models folder here: both stay as they were
    kept = artifacts.model_path(models, "hashing-sgd", "stance", "document")
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"the user's model")
    monkeypatch.setenv("STANCE_BENCH_MODELS", str(models))
    assert cost.train("hashing-sgd", 300, tmp_path, models) == {"mode": "out-of-core partial_fit"}
    assert [p for p in models.rglob("*") if p.is_file()] == [kept] and kept.read_bytes() == b"the user's model"
    est, manifest = artifacts.load(artifacts.model_path(tmp_path / "cost-models" / "300", "hashing-sgd", "stance", "document"))
    assert manifest["params"] == {"clf__alpha": 1e-4} and est[-1].alpha == 1e-4
    assert est[-1].t_ > 300 and est[-1].t_ < 302  # one epoch over 300 rows in chunks of 100: partial_fit saw each row once
