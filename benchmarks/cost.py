"""One cost-curve measurement in a fresh process: `python benchmarks/cost.py STAGE MODEL N WORKDIR`.

STAGE is train, predict or eval; N records are resampled (seed 0) from the real stance training
rows of the document split. Prints one JSON line: wall seconds of the stage and the process's peak
resident memory (VmHWM, so the import of the libraries is counted too). The parent
(`benchmarks/run.py`) runs each size in its own process so that peaks do not mix.
"""
from __future__ import annotations

import json
import resource
import sys
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


def train(model: str, n: int, work: Path) -> dict:
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
    path = artifacts.model_path(work / "models", model, "stance", "document")
    artifacts.save(est, path, {"model": model, "task": "stance", "split": "document", "seed": 0, "params": params})
    return {"mode": "out-of-core partial_fit" if model == "hashing-sgd" else "in memory"}


def predict(model: str, n: int, work: Path) -> dict:
    from bench.models.predict import predict_file

    inp = work / f"predict-{n}.jsonl"
    if not inp.exists():
        data, _, _ = base_rows()
        rng = np.random.default_rng(1)
        with open(inp, "w", encoding="utf-8") as fh:
            for start in range(0, n, CHUNK):
                for i in rng.integers(0, len(data), size=min(CHUNK, n - start)):
                    d = data[i]
                    fh.write(json.dumps({"text": d["text"], "actor": d["actor"]}) + "\n")
    t0 = time.perf_counter()
    predict_file(model, "stance", inp, work / "predictions.jsonl", models=work / "models")
    return {"seconds": time.perf_counter() - t0}  # without writing the input file


def evaluate(model: str, n: int, work: Path) -> dict:
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


def vm_hwm_mib() -> float:
    """This process's own peak resident size (VmHWM): ru_maxrss would include the parent's at the fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    stage, model, n, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    t0 = time.perf_counter()
    extra = {"train": train, "predict": predict, "eval": evaluate}[stage](model, n, work)
    secs = extra.pop("seconds", time.perf_counter() - t0)
    peak = vm_hwm_mib()
    # an upper bound: a child's ru_maxrss starts from its parent's resident size at the fork
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"stage": stage, "model": model, "records": n, "seconds": round(secs, 2),
                      "peak_rss_mib": round(peak, 1), "peak_source": "VmHWM", "peak_rss_worker_mib": round(workers, 1), **extra}))


if __name__ == "__main__":
    main()
