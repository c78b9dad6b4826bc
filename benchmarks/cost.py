"""One cost-curve measurement in a fresh process: `python benchmarks/cost.py STAGE MODEL N WORKDIR [MODELS]`.

STAGE is train, predict or eval; N records are resampled (seed 0) from the real stance training
rows of the document split. Prints one JSON line: wall seconds of the stage, the process's peak
resident memory (VmHWM, so the import of the libraries is counted too) and, for predict, the largest
peak of its scoring worker processes (their VmHWM, polled from /proc while they run: ru_maxrss of
children would start from the parent's size) and the sum of all its processes' peaks. The parent (`benchmarks/run.py`) runs each size in
its own process so that peaks do not mix. STAGE `input` writes predict's N-line input file (streamed,
in its own process so that predict's peak does not include making it) and prints nothing.
predict reads the trained model from MODELS (default WORKDIR/models); models trained here go to
WORKDIR/cost-models/N, never over those.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNK = 50_000


def base_rows() -> tuple[list[dict], list[str], list[str]]:
    from bench.data import splits
    from bench.data.features import rows
    from bench.data.schema import load_actors
    from bench.data.store import labels_dir, load_records

    lab = labels_dir(None)
    data, y = rows(splits.select(load_records(lab), "document", "train"), "stance", load_actors(lab / "actors.toml"))
    return data, y, [d["doc"] for d in data]


def resampled_chunks(n: int, seed: int = 0):
    """A function giving (DataFrame, labels) chunks of n resampled rows, the same ones on every call."""
    import pandas as pd

    data, y, _ = base_rows()
    frame = pd.DataFrame(data)

    def chunks():
        rng = np.random.default_rng(seed)
        for start in range(0, n, CHUNK):
            idx = rng.integers(0, len(data), size=min(CHUNK, n - start))
            yield frame.iloc[idx].reset_index(drop=True), [y[i] for i in idx]
    return chunks


def train(model: str, n: int, work: Path, models: Path) -> dict:
    from bench.models import artifacts
    from bench.models.registry import get
    from bench.models.outofcore import fit_chunks

    params = json.loads((work / f"{model}.params.json").read_text())
    est = get(model).factory("stance", 0).set_params(**params)
    chunks = resampled_chunks(n)
    if model == "hashing-sgd":  # out of core: one chunk in memory at a time
        est = fit_chunks(est, chunks, epochs=1)
    else:  # in memory: the whole resampled frame, one fit with the chosen parameters
        import pandas as pd

        parts = list(chunks())
        X = pd.concat([p[0] for p in parts], ignore_index=True)
        est.fit(X, [lab for p in parts for lab in p[1]])
    path = artifacts.model_path(work / "cost-models" / str(n), model, "stance", "document")
    from bench.data.store import fingerprint

    # a fingerprint that no real data has: the model loads, and is never taken for one trained on the labels
    artifacts.save(est, path, {"model": model, "task": "stance", "split": "document", "seed": 0, "params": params,
                               "data_fingerprint": f"resampled-{n}-of-{fingerprint(None)}"})
    return {"mode": "out-of-core partial_fit" if model == "hashing-sgd" else "in memory"}


def predict_input(n: int, work: Path) -> Path:
    """predict's n-line input: resampled (seed 1) real stance sentences with their actor, written a chunk at a time."""
    inp = work / f"predict-{n}.jsonl"
    if inp.exists():
        return inp
    data, _, _ = base_rows()
    rng = np.random.default_rng(1)
    tmp = inp.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8") as fh:
        for start in range(0, n, CHUNK):
            fh.write("".join(json.dumps({"text": data[i]["text"], "actor": data[i]["actor"]}) + "\n"
                             for i in rng.integers(0, len(data), size=min(CHUNK, n - start))))
    tmp.replace(inp)
    return inp


def predict(model: str, n: int, work: Path, models: Path) -> dict:
    from bench.models.predict import predict_file

    inp = predict_input(n, work)
    with WorkerPeaks() as workers:
        t0 = time.perf_counter()
        predict_file(model, "stance", inp, work / "predictions.jsonl", models=models)
        secs = time.perf_counter() - t0
    peaks = workers.peaks.values()
    # the sum of every process's own peak: an upper bound on what the stage held at once
    return {"seconds": secs, "workers": len(peaks), "peak_rss_worker_mib": round(max(peaks, default=0) / 1024, 1),
            "peak_rss_total_mib": round(vm_hwm_mib() + sum(peaks) / 1024, 1)}


def evaluate(model: str, n: int, work: Path, models: Path) -> dict:
    """Scoring n records as `eval` does: intervals, per-class, per-actor and per-source, from given predictions."""
    from bench.scoring import metrics

    data, y, docs = base_rows()
    rng = np.random.default_rng(2)
    idx = rng.integers(0, len(data), size=n)
    pred_pool = np.array(json.loads((work / "base-predictions.json").read_text()))
    y_true = [y[i] for i in idx]
    y_pred = list(pred_pool[idx])
    metrics.report("stance", y_true, y_pred, [docs[i] for i in idx])
    metrics.group_macro_f1([data[i]["actor"] for i in idx], y_true, y_pred, metrics.labels_for("stance"), 10)
    metrics.group_macro_f1([data[i]["source"] for i in idx], y_true, y_pred, metrics.labels_for("stance"))
    return {}


def vm_hwm_kib(pid: int | str = "self") -> int | None:
    """A process's own peak resident size in KiB (VmHWM), None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def vm_hwm_mib() -> float:
    """This process's own peak resident size (VmHWM): ru_maxrss would include the parent's at the fork."""
    kib = vm_hwm_kib()
    return kib / 1024 if kib is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_pids(parent: int) -> list[int]:
    """Children of `parent` started by multiprocessing's spawn (the scoring workers, not its resource tracker)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            if int(stat[stat.rindex(")") + 2:].split()[1]) == parent and b"spawn_main" in (d / "cmdline").read_bytes():
                pids.append(int(d.name))
        except (OSError, ValueError):
            continue
    return pids


class WorkerPeaks:
    """Polls the VmHWM of this process's spawned workers while the block runs; `peaks` maps pid to KiB.

    VmHWM is a high-water mark, so the last reading before a worker exits is its peak up to then;
    the poll interval bounds what is missed at the very end (the workers are idle then).
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval, self.peaks, self._stop = interval, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while True:
            for pid in worker_pids(me):
                kib = vm_hwm_kib(pid)
                if kib is not None:
                    self.peaks[pid] = max(kib, self.peaks.get(pid, 0))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "WorkerPeaks":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    stage, model, n, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    models = Path(sys.argv[5]) if len(sys.argv) > 5 else work / "models"
    if stage == "input":
        predict_input(n, work)
        return
    t0 = time.perf_counter()
    extra = {"train": train, "predict": predict, "eval": evaluate}[stage](model, n, work, models)
    secs = extra.pop("seconds", time.perf_counter() - t0)
    peak = vm_hwm_mib()
    print(json.dumps({"stage": stage, "model": model, "records": n, "seconds": round(secs, 2),
                      "peak_rss_mib": round(peak, 1), "peak_source": "VmHWM", **extra}))


if __name__ == "__main__":
    main()
