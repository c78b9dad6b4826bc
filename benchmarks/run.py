"""`make perf`: speed and memory figures, written to benchmarks/results.json.

Machines here are shared and noisy, so every figure that matters is a ratio measured within one run
(vectorised vs. per-resample bootstrap; memory for a 4x larger prediction file), next to the raw
timings for context. Nothing here is asserted in the unit tests.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import metrics  # noqa: E402
from bench.schema import STANCES  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bootstrap() -> dict:
    rng = np.random.default_rng(0)
    n, n_docs = 700, 150
    docs = [f"d{i % n_docs}" for i in range(n)]
    gold = list(rng.choice(STANCES, n))
    pred = [g if rng.random() < 0.7 else rng.choice(STANCES) for g in gold]
    _, D = metrics.doc_confusions(docs, gold, pred, STANCES)

    def vectorised() -> None:
        metrics.bootstrap_interval(D, metrics.macro_f1_score, n=1000)

    def loop() -> None:  # what a per-resample implementation does: re-score each resample
        from sklearn.metrics import f1_score

        r = np.random.default_rng(0)
        by_doc: dict[str, list[int]] = {}
        for i, d in enumerate(docs):
            by_doc.setdefault(d, []).append(i)
        keys = sorted(by_doc)
        for _ in range(1000):
            idx = [i for k in r.choice(len(keys), len(keys)) for i in by_doc[keys[k]]]
            f1_score([gold[i] for i in idx], [pred[i] for i in idx], average="macro")

    v = best_of(vectorised)
    lo = best_of(loop, repeat=1)
    return {"records": n, "documents": n_docs, "resamples": 1000, "vectorised_seconds": round(v, 4),
            "per_resample_loop_seconds": round(lo, 3), "speedup": round(lo / v, 1)}


def paired_ranking() -> dict:
    rng = np.random.default_rng(1)
    docs = [f"d{i % 150}" for i in range(700)]
    gold = list(rng.choice(STANCES, 700))
    Ds = {f"m{k}": metrics.doc_confusions(docs, gold, [g if rng.random() < 0.5 + k / 20 else rng.choice(STANCES) for g in gold], STANCES)[1]
          for k in range(9)}
    return {"models": 9, "seconds": round(best_of(lambda: metrics.rank_models(Ds), repeat=3), 4)}


def cli_help() -> dict:
    exe = str(Path(sys.executable).parent / "stance-bench")
    def run(args: list[str]) -> None:
        subprocess.run(args, capture_output=True, check=True)
    helps = best_of(lambda: run([exe, "--help"]), repeat=5)
    sk = best_of(lambda: run([sys.executable, "-c", "import sklearn.linear_model, datasets"]), repeat=3)
    return {"help_seconds": round(helps, 3), "import_sklearn_datasets_seconds": round(sk, 3), "ratio": round(sk / helps, 1)}


def predict_memory() -> dict:
    """Peak Python memory of streaming prediction for a file and one 4x larger (ratio ~1 means streaming)."""
    from bench.models import ActorPrior
    from bench import artifacts
    from bench.predict import predict_file
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = artifacts.model_path(tmp, "prior", "stance", "document")
        est = ActorPrior().fit(pd.DataFrame({"actor": ["RUS", "USA", "NATO"]}), ["cautious", "deterrence-seeking", "pro-cooperation"])
        artifacts.save(est, path, {"model": "prior", "task": "stance", "split": "document", "seed": 0})
        line = json.dumps({"text": "NATO ministers discussed the Russian deployments near the border.", "actor": "NATO"}) + "\n"
        out = {}
        for n in (20_000, 80_000):
            inp = tmp / f"in{n}.jsonl"
            inp.write_text(line * n)
            tracemalloc.start()
            t0 = time.perf_counter()
            predict_file("prior", "stance", inp, tmp / "out.jsonl", models=tmp, batch_size=1000)
            secs = time.perf_counter() - t0
            out[n] = {"peak_mib": round(tracemalloc.get_traced_memory()[1] / 2**20, 2), "lines_per_second": round(n / secs)}
            tracemalloc.stop()
    return {"small": out[20_000], "large": out[80_000], "peak_ratio_4x_input": round(out[80_000]["peak_mib"] / out[20_000]["peak_mib"], 2)}


def main() -> None:
    res = {"machine": {"python": platform.python_version(), "processor": platform.machine(), "cores": __import__("os").cpu_count()},
           "date": time.strftime("%Y-%m-%d"), "bootstrap": bootstrap(), "ranking": paired_ranking(),
           "cli": cli_help(), "predict_streaming": predict_memory()}
    out = ROOT / "benchmarks" / "results.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
