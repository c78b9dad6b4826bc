"""`make perf`: speed and memory figures, written to benchmarks/results.json and the README table.

Machines here are shared and noisy, so every figure that matters is a ratio measured within one run
(cached search vs. the naive GridSearchCV reference, `stance-bench predict` vs. bare
`estimator.predict`, `leaderboard` vs. importing scikit-learn, ...), the median of 3 repeats where a
repeat is cheap, next to the raw timings for context. Nothing here is asserted in the unit tests.

    python benchmarks/run.py            # the issue's figures (~25-30 min estimated on an idle 2-core machine)
    python benchmarks/run.py --quick    # one repeat, cost curves to 100k records
    python benchmarks/run.py --splits 3 # the training comparison on all three splits (slow: the naive side alone ~10 min)
    python benchmarks/run.py --only costs --cost-sizes 10000,100000   # the cost curves only, without the 1M points
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scoring import metrics
from bench.data.schema import STANCES  # noqa: E402


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
    from bench.models.registry import ActorPrior
    from bench.models import artifacts
    from bench.models.predict import predict_file
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = artifacts.model_path(tmp, "actor-prior", "stance", "document")
        est = ActorPrior().fit(pd.DataFrame({"actor": ["RUS", "USA", "NATO"]}), ["cautious", "deterrence-seeking", "pro-cooperation"])
        artifacts.save(est, path, {"model": "actor-prior", "task": "stance", "split": "document", "seed": 0,
                                   "data_fingerprint": "benchmark"})
        line = json.dumps({"text": "NATO ministers discussed the Russian deployments near the border.", "actor": "NATO"}) + "\n"
        out = {}
        for n in (20_000, 80_000):
            inp = tmp / f"in{n}.jsonl"
            inp.write_text(line * n)
            tracemalloc.start()
            t0 = time.perf_counter()
            predict_file("actor-prior", "stance", inp, tmp / "out.jsonl", models=tmp, batch_size=1000, workers=1)
            secs = time.perf_counter() - t0
            out[n] = {"peak_mib": round(tracemalloc.get_traced_memory()[1] / 2**20, 2), "lines_per_second": round(n / secs)}
            tracemalloc.stop()
    return {"small": out[20_000], "large": out[80_000], "peak_ratio_4x_input": round(out[80_000]["peak_mib"] / out[20_000]["peak_mib"], 2)}


def import_speed(n: int = 10_000) -> dict:
    """`stance-bench import` of an n-row CSV into a copy of the full store (#9: one store validation per import)."""
    import csv
    import shutil

    from bench.data.importing import import_records

    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp) / "labels"
        lab.mkdir()
        for p in [ROOT / "labels" / "actors.toml", *(ROOT / "labels").glob("*.jsonl")]:
            shutil.copy(p, lab / p.name)
        src = Path(tmp) / "rows.csv"
        with open(src, "w", newline="") as fh:  # timing rows, never labels: the folder is thrown away
            w = csv.writer(fh)
            w.writerow(["text", "tension", "stances", "mentions", "doc", "source", "license"])
            for i in range(n):
                w.writerow([f"Timing row {i}: NATO and Russia met.", "low", "NATO=pro-cooperation;RUS=cautious",
                            "NATO=NATO;RUS=Russia", f"timing-{i // 20}", "benchmark", "CC0-1.0"])
        store = sum(1 for p in lab.glob("*.jsonl") for line in p.read_text().splitlines() if line.strip())
        dry = best_of(lambda: import_records(src, "timing", lab, dry_run=True), repeat=3)
        t0 = time.perf_counter()
        import_records(src, "timing", lab)
        real = time.perf_counter() - t0
    return {"rows": n, "store_records": store, "dry_run_seconds": round(dry, 2), "import_seconds": round(real, 2)}


def median_of(fn, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), [round(t, 3) for t in times]


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def baselines() -> list[str]:
    """What `make train` trains without extras."""
    from bench.models import registry as models

    return [n for n, spec in models.REGISTRY.items() if spec.extra is None and models.available(n)]


def naive_search(name: str, task: str, X, y, groups, seed: int = 0, n_jobs: int = -1):
    """The reference: GridSearchCV over the uncached pipeline, logistic regressions with lbfgs (the code before #10)."""
    from sklearn.linear_model import LogisticRegression

    from bench.models.registry import get
    from bench.models.training import plain_search

    spec = get(name)
    est = spec.factory(task, seed)
    if isinstance(getattr(est, "steps", [[None, None]])[-1][1], LogisticRegression):
        est.set_params(clf__solver="lbfgs")
    return plain_search(est, spec.grid, X, y, groups, seed, n_jobs)


def _examples(task: str, split: str):
    from bench.data.features import side_examples
    from bench.data.store import labels_dir, load_records

    lab = labels_dir(None)
    return side_examples(load_records(lab), split, "train", task, lab)


def training(models_dir: Path, tasks: list[str], splits: list[str], repeat: int) -> dict:
    """`make train` on an empty models folder (the cached search) against the naive GridSearchCV reference."""
    from bench.models import registry as models, search, training as trainer
    from bench.models.training import train

    names = baselines()
    jobs = [(n, t, s) for s in splits for t in tasks for n in names if t in models.get(n).tasks]
    runs, chosen = [], {}
    load = {"start": [round(x, 1) for x in os.getloadavg()]}
    for r in range(repeat):
        search.clear_cache()
        trainer.clear_cache()  # each run reads the records once, as one `make train` process does
        out = models_dir if r == 0 else models_dir.parent / f"models-repeat-{r}"
        say(f"training: cached search, run {r + 1}/{repeat} ({len(jobs)} fits)")
        t0 = time.perf_counter()
        for n, t, s in jobs:
            res = train(n, t, s, models=out, n_jobs=-1, force=True)
            chosen[f"{n}/{t}/{s}"] = {"after": {"params": res.params, "cv_macro_f1": res.cv_macro_f1, "seconds": round(res.fit_seconds, 2)}}
        runs.append(time.perf_counter() - t0)
    say("training: naive GridSearchCV reference (once: it is the slow side)")
    t0 = time.perf_counter()
    data: dict[tuple[str, str], object] = {}
    for n, t, s in jobs:
        if (t, s) not in data:  # read once per task and split, as the cached side does
            data[(t, s)] = _examples(t, s)
        ex = data[(t, s)]
        t1 = time.perf_counter()
        _, params, score = naive_search(n, t, ex.X, ex.y, ex.groups)
        chosen[f"{n}/{t}/{s}"]["before"] = {"params": params, "cv_macro_f1": score, "seconds": round(time.perf_counter() - t1, 2)}
    naive = time.perf_counter() - t0
    load["end"] = [round(x, 1) for x in os.getloadavg()]
    new = statistics.median(runs)
    same = all(v["before"]["params"] == v["after"]["params"] for v in chosen.values())
    used = sorted({n for n, _, _ in jobs})
    return {"scope": f"{len(used)} baselines x tasks {tasks} x splits {splits} ({len(jobs)} model fits)", "baselines": used,
            "cached_seconds": round(new, 1), "cached_runs": [round(x, 1) for x in runs], "naive_seconds": round(naive, 1),
            "speedup": round(naive / new, 2), "target_speedup": 5, "same_parameters": same,
            "max_abs_cv_difference": round(max(abs(v["before"]["cv_macro_f1"] - v["after"]["cv_macro_f1"]) for v in chosen.values()), 4),
            "load_average": load, "models": chosen}


def prediction(models_dir: Path, work: Path, rows: int, repeat: int) -> dict:
    """`predict_file` rows/s against bare `estimator.predict` on the same tfidf-lr model and rows, one process each."""
    from bench.models import artifacts
    from bench.data.features import frame
    from bench.models.predict import predict_file
    from bench.data.schema import load_actors
    from bench.data.store import labels_dir

    from bench.models.predict import BATCH

    # the real stance inputs (sentence x actor, in record order), repeated in order to `rows`; no
    # mention, so the lookup runs. Not resampled: that would add duplicate sentences to a batch
    data = _examples("stance", "document").X
    objs = [{"text": data["text"].iloc[i % len(data)], "actor": data["actor"].iloc[i % len(data)]} for i in range(rows)]
    distinct = [len({o["text"] for o in objs[i:i + BATCH]}) / len(objs[i:i + BATCH]) for i in range(0, rows, BATCH)]
    inp = work / "predict-bench.data.jsonl"
    inp.write_text("".join(json.dumps(o) + "\n" for o in objs))
    est, _ = artifacts.load(artifacts.model_path(models_dir, "tfidf-lr", "stance", "document"))
    X = frame(objs, "stance", load_actors(labels_dir(None) / "actors.toml"))
    say(f"prediction: bare estimator.predict vs stance-bench predict, {rows} rows")
    bare, bare_runs = median_of(lambda: est.predict(X), repeat)
    ours, our_runs = median_of(lambda: predict_file("tfidf-lr", "stance", inp, work / "out.jsonl", models=models_dir), repeat)
    return {"model": "tfidf-lr", "task": "stance", "rows": rows, "bare_predict_rows_per_second": round(rows / bare),
            "predict_file_rows_per_second": round(rows / ours), "ratio": round(bare / ours, 2), "target_ratio": 2,
            "bare_runs": bare_runs, "predict_file_runs": our_runs, "batch_rows": BATCH,
            "distinct_text_share_per_batch": round(float(np.mean(distinct)), 3),
            "input": "the real stance rows of the document split's training side, in record order, repeated to the row count; no mention",
            "note": "bare: est.predict(DataFrame) only; predict_file: reading, validating and writing JSONL included"}


def reading(models_dir: Path, repeat: int) -> dict:
    """`leaderboard` and `compare` as a user runs them, against `python -c 'import sklearn'`."""
    exe = str(Path(sys.executable).parent / "stance-bench")
    def run(args: list[str]) -> None:
        subprocess.run(args, capture_output=True, check=True)
    sk, _ = median_of(lambda: run([sys.executable, "-c", "import sklearn"]), repeat)
    lb, _ = median_of(lambda: run([exe, "leaderboard", "--models", str(models_dir)]), repeat)
    cmp_, _ = median_of(lambda: run([exe, "compare", "tfidf-lr", "tfidf-svm", "--task", "stance", "--models", str(models_dir)]), repeat)
    return {"import_sklearn_seconds": round(sk, 3), "leaderboard_seconds": round(lb, 3), "compare_seconds": round(cmp_, 3),
            "leaderboard_over_import": round(lb / sk, 2), "compare_over_import": round(cmp_ / sk, 2), "target": "<= 1.0"}


def dask_search(repeat: int, n_values: int = 8, task: str = "stance") -> dict:
    """The classifier search of tfidf-lr (document split; stance: its fits are the heaviest of the
    baselines, about a second each) on a grid of `n_values` C values x 5 folds: one process against a
    2-worker local Dask cluster, and joblib's two local processes for scale (features cached
    beforehand on every side)."""
    from bench.models import registry as models, search
    from bench.models.training import cv, parallel

    ex = _examples(task, "document")
    grid = {"clf__C": [0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0][:n_values]}
    est = lambda: models.get("tfidf-lr").factory(task, 0)  # noqa: E731
    run = lambda n_jobs: search.grid_search(est(), grid, ex.X, ex.y, ex.groups, cv(0), n_jobs=n_jobs)  # noqa: E731
    search.grid_search(est(), {"clf__C": [1.0]}, ex.X, ex.y, ex.groups, cv(0), n_jobs=-1)  # warm the feature cache
    say("dask: one process")
    one, _ = median_of(lambda: run(1), repeat)
    say("dask: joblib, two local processes")
    loky, _ = median_of(lambda: run(2), repeat)
    say("dask: 2-worker local cluster")
    with parallel("dask", workers=2) as n_jobs:
        two, _ = median_of(lambda: run(n_jobs), repeat)
    return {"grid": f"tfidf-lr {task}, C x {n_values}, 5 folds ({5 * n_values} fits)", "one_process_seconds": round(one, 1),
            "dask_2_workers_seconds": round(two, 1), "speedup": round(one / two, 2),
            "joblib_2_processes_seconds": round(loky, 1), "joblib_speedup": round(one / loky, 2)}


def cost_curves(models_dir: Path, work: Path, sizes: list[int], in_memory_max: int) -> list[dict]:
    """Time and peak memory of train, predict and eval at each size, each in a fresh process."""
    from bench.models import artifacts

    import pandas as pd  # noqa: F401

    for m in ("hashing-sgd", "tfidf-lr"):
        man = artifacts.read_manifest(artifacts.model_path(models_dir, m, "stance", "document"))
        (work / f"{m}.params.json").write_text(json.dumps({k: v for k, v in (man or {}).get("params", {}).items()}))
    est, _ = artifacts.load(artifacts.model_path(models_dir, "tfidf-lr", "stance", "document"))
    (work / "base-predictions.json").write_text(json.dumps([str(p) for p in est.predict(_examples("stance", "document").X)]))
    out = []
    cost = [sys.executable, str(ROOT / "benchmarks" / "cost.py")]
    for n in sizes:
        for model in ("hashing-sgd", "tfidf-lr"):
            for stage in ("train", "predict", "eval"):
                if model == "tfidf-lr" and n > in_memory_max and stage != "eval":
                    continue
                if stage == "eval" and model != "tfidf-lr":
                    continue
                r = None
                if stage == "predict":  # the input file in its own process, outside the measured one
                    say(f"cost curve: writing a {n:,}-line predict input")
                    r = subprocess.run([*cost, "input", model, str(n), str(work)], capture_output=True, text=True)
                if r is None or r.returncode == 0:
                    say(f"cost curve: {stage} {model} {n:,}")
                    r = subprocess.run([*cost, stage, model, str(n), str(work), str(models_dir)], capture_output=True, text=True)
                if r.returncode != 0:
                    out.append({"stage": stage, "model": model, "records": n, "error": r.stderr.strip().splitlines()[-1:]})
                else:
                    out.append(json.loads(r.stdout.strip().splitlines()[-1]))
                say(f"cost curve: {json.dumps(out[-1])}")
                save_partial("cost_curves", out)
        for p in [*work.glob(f"predict-{n}.*"), work / "predictions.jsonl"]:  # ~250 + 380 MB at 1M: not kept
            p.unlink(missing_ok=True)
    return out


def plot_costs(curves: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    series: dict[str, list[dict]] = {}
    for c in curves:
        if "seconds" in c:
            label = "eval (scoring)" if c["stage"] == "eval" else f"{c['stage']} {c['model']}"
            series.setdefault(label, []).append(c)
    for label, pts in sorted(series.items()):
        xs = [p["records"] for p in pts]
        axes[0].plot(xs, [p["seconds"] for p in pts], marker="o", label=label)
        mem = [p for p in pts if p.get("peak_source") == "VmHWM"]  # older ru_maxrss figures include the parent's memory
        line, = axes[1].plot([p["records"] for p in mem], [p["peak_rss_mib"] for p in mem], marker="o", label=label)
        work = [p for p in mem if p.get("workers")]
        if work:  # predict's scoring processes: same colour, dashed
            axes[1].plot([p["records"] for p in work], [p["peak_rss_worker_mib"] for p in work], marker="s", linestyle="--",
                         color=line.get_color(), label=f"{label} (a worker)")
    for ax, title, unit in ((axes[0], "time", "seconds"), (axes[1], "peak memory per process (VmHWM)", "MiB resident")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("records (resampled real stance rows)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    fig.suptitle("stance-bench cost curves (2 cores, shared machine)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(res: dict) -> str:
    """The README's performance table, rendered from the results."""
    t, p, r, d, c = (res.get(k, {}) for k in ("training", "prediction", "reading", "dask", "cli"))
    rows = ["| figure | measured | target | met |", "|---|---|---|---|"]
    def row(name: str, value: str, target: str, ok: bool | None) -> None:
        rows.append(f"| {name} | {value} | {target} | {'–' if ok is None else 'yes' if ok else 'no'} |")
    if t:
        cached = t.get("cached_seconds_same_models", t["cached_seconds"])
        row(f"training, {t['scope']}: naive GridSearchCV (lbfgs, uncached) / cached search",
            f"{t['naive_seconds']} s / {cached} s = **{t['speedup']}×**", "≥ 5×", None if t["speedup"] is None else t["speedup"] >= 5)
        row("same chosen parameters; largest CV macro-F1 change", f"{t['same_parameters']}; {t['max_abs_cv_difference']}", "same, within noise", None)
    if p:
        share = f" (real stance rows in order, {p['distinct_text_share_per_batch']:.0%} distinct texts per batch)" if "distinct_text_share_per_batch" in p else ""
        row(f"prediction, {p['model']} {p['task']}, {p['rows']:,} rows{share}: `predict` / bare `estimator.predict` rows/s",
            f"{p['predict_file_rows_per_second']:,} / {p['bare_predict_rows_per_second']:,} = **{p['ratio']}×**", "≥ 2×", p["ratio"] >= 2)
    flat = res.get("predict_memory_flat")
    if flat:
        row(f"predict peak memory of a process, {flat['model']}: {flat['large']:,} vs {flat['small']:,} lines", f"{flat['peak_large_mib']} / {flat['peak_small_mib']} MiB = **{flat['ratio']}**",
            "≤ 1.10, < 1 GB", flat["ratio"] <= 1.10 and flat["peak_large_mib"] < 1024)
        if "total_large_mib" in flat:
            row(f"the same, all processes' peaks summed ({flat['workers_large']} vs {flat['workers_small']} workers)",
                f"{flat['total_large_mib']} / {flat['total_small_mib']} MiB", "< 1 GB", flat["total_large_mib"] < 1024)
    if r:
        row("`leaderboard` / `import sklearn`", f"{r['leaderboard_seconds']} s / {r['import_sklearn_seconds']} s = **{r['leaderboard_over_import']}**", "≤ 1", r["leaderboard_over_import"] <= 1)
        row("`compare tfidf-lr tfidf-svm` / `import sklearn`", f"{r['compare_seconds']} s / {r['import_sklearn_seconds']} s = **{r['compare_over_import']}**", "≤ 1", r["compare_over_import"] <= 1)
    im = res.get("import")
    if im:
        row(f"`import` of {im['rows']:,} CSV rows into a {im['store_records']:,}-record store (validate all, write)",
            f"{im['import_seconds']} s (dry run {im['dry_run_seconds']} s)", "seconds (#9)", im["import_seconds"] < 10)
    if c:
        row("`stance-bench --help`", f"{c['help_seconds']} s", "the README's figure: about 0.12 s (corrected from < 0.1 s)", c["help_seconds"] < 0.125)
    if d:
        row(f"Dask search, {d['grid']}: one process / 2-worker local cluster (joblib's 2 local processes: {d.get('joblib_speedup', '–')}×)", f"{d['one_process_seconds']} s / {d['dask_2_workers_seconds']} s = **{d['speedup']}×**", "reported", None)
    cc = [x for x in res.get("cost_curves", []) if "seconds" in x]
    if cc:
        rows += ["", "| stage | model | records | seconds | peak MiB (main process) | peak MiB (a worker) |", "|---|---|---|---|---|---|"]
        rows += [f"| {x['stage']} | {x['model']} | {x['records']:,} | {x['seconds']} | {x['peak_rss_mib']} | {x.get('peak_rss_worker_mib') or '–'} |" for x in cc]
    return "\n".join(rows)


def write_readme_table(table: str, meta: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = "<!-- perf:start -->", "<!-- perf:end -->"
    if start in text and end in text:
        text = text[:text.index(start) + len(start)] + "\n" + meta + "\n\n" + table + "\n" + text[text.index(end):]
        readme.write_text(text)


STAGES = ("micro", "training", "reading", "prediction", "dask", "costs", "import")


def trained(work: Path, tasks: list[str], names: list[str] | None = None, evaluate: bool = True) -> Path:
    """Baselines trained (cached search) and evaluated on the document split, for the stages that need models."""
    from bench.models import registry as models
    from bench.scoring.recording import evaluate_and_record
    from bench.models.training import train

    mod = work / "models"
    names = names or baselines()
    say(f"training{' and evaluating' if evaluate else ''} {names} for {tasks} (document split)")
    for t in tasks:
        for n in names:
            if t in models.get(n).tasks:
                train(n, t, "document", models=mod, n_jobs=-1)
    if evaluate:
        evaluate_and_record(names, tasks, ["document"], None, mod, plots=False)
    return mod


RESULTS = ROOT / "benchmarks" / "results.json"


def save_partial(key: str, value) -> None:
    """Merge one stage's result into results.json as soon as it is measured (stages may run side by side)."""
    cur = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    cur[key] = value
    RESULTS.write_text(json.dumps(cur, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repeat; training compared on the tension task only; cost curves to 100k")
    ap.add_argument("--splits", type=int, default=1, choices=(1, 3), help="training comparison on the document split, or all three")
    ap.add_argument("--only", action="append", choices=STAGES, help="run only these stages (repeatable); the other "
                    "stages' results already in results.json are kept")
    ap.add_argument("--models", help="a models folder with the stance baselines trained and evaluated on the document split "
                    "(for reading, prediction and costs; default: train them in a temporary folder)")
    ap.add_argument("--cost-sizes", type=lambda v: [int(x) for x in v.split(",")], metavar="N,N,...",
                    help="record counts of the cost curves (default: 10000,100000,1000000; --quick: 10000,100000)")
    ap.add_argument("--render", action="store_true", help="measure nothing: redraw the README table and the PNG from results.json")
    ap.add_argument("--no-readme", action="store_true", help="do not rewrite the README table")
    args = ap.parse_args()
    from bench.data.splits import SPLITS
    from bench.data.store import fingerprint

    stages = [] if args.render else args.only or list(STAGES)
    if args.render:
        args.only = ["render"]
    repeat = 1 if args.quick else 3
    splits = ["document"] if args.splits == 1 else list(SPLITS)
    sizes = args.cost_sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    out = RESULTS
    res: dict = {}
    if not args.render:
        res.update({"machine": {"python": platform.python_version(), "processor": platform.machine(), "cores": os.cpu_count(),
                                "load_average_at_start": [round(x, 1) for x in os.getloadavg()]},
                    "date": time.strftime("%Y-%m-%d"), "mode": "quick" if args.quick else "full", "data_fingerprint": fingerprint(None)})
    with tempfile.TemporaryDirectory(prefix="perf-") as tmp:
        work = Path(tmp)
        if "micro" in stages:
            res["bootstrap"], res["ranking"], res["cli"] = bootstrap(), paired_ranking(), cli_help()
            res["predict_streaming"] = predict_memory()
        if "training" in stages:
            res["training"] = training(work / "train", ["tension"] if args.quick else ["stance", "tension"], splits, repeat)
        mod = Path(args.models) if args.models else None
        if mod is not None:
            pass
        elif {"reading", "prediction"} & set(stages):
            mod = trained(work, ["stance"])
        elif "costs" in stages:
            mod = trained(work, ["stance"], ["hashing-sgd", "tfidf-lr"], evaluate=False)
        if "reading" in stages:
            res["reading"] = reading(mod, 3)
            save_partial("reading", res["reading"])
        if "prediction" in stages:
            res["prediction"] = prediction(mod, work, 6_000 if args.quick else 20_000, repeat)
            save_partial("prediction", res["prediction"])
        if "dask" in stages:
            res["dask"] = dask_search(1, 4 if args.quick else 8)
            save_partial("dask", res["dask"])
        if "import" in stages:
            res["import"] = import_speed()
            save_partial("import", res["import"])
        if "costs" in stages:
            res["cost_curves"] = cost_curves(mod, work, sizes, in_memory_max=10_000 if args.quick else 100_000)
    if args.only and out.exists():  # keep the other stages' results (read now: stages may run side by side)
        res = {**json.loads(out.read_text()), **res}
    preds = {x["records"]: x for x in res.get("cost_curves", []) if x["stage"] == "predict" and x["model"] == "hashing-sgd" and "seconds" in x}
    if len(preds) >= 2:
        small, large = sorted(preds)[-2:]
        pk = lambda x: max(x["peak_rss_mib"], x.get("peak_rss_worker_mib", 0))  # noqa: E731
        tot = lambda x: x.get("peak_rss_total_mib", x["peak_rss_mib"])  # noqa: E731
        res["predict_memory_flat"] = {"model": "hashing-sgd", "small": small, "large": large, "peak_small_mib": pk(preds[small]),
                                      "peak_large_mib": pk(preds[large]), "ratio": round(pk(preds[large]) / pk(preds[small]), 3),
                                      "workers_small": preds[small].get("workers", 0), "workers_large": preds[large].get("workers", 0),
                                      "total_small_mib": tot(preds[small]), "total_large_mib": tot(preds[large])}
    out.write_text(json.dumps(res, indent=2) + "\n")
    if res.get("cost_curves"):
        plot_costs(res["cost_curves"], ROOT / "benchmarks" / "cost-curves.png")
    table = markdown(res)
    print(table)
    if not args.no_readme:
        write_readme_table(table, f"Measured {res['date']} ({res['mode']} mode) on data `{res['data_fingerprint']}`, load average "
                                  f"{res['machine']['load_average_at_start']} at the start (a shared machine: read the ratios).")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
