"""Terminal reports for `eval`, `leaderboard`, `compare` and `agreement` (rich tables).

The numbers come from the library (`evaluation`, `metrics`, `leaderboard`, `agreement`); this
module only lays them out.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import leaderboard as lb
from .schema import labels_for
from .store import fingerprint, labels_dir, models_dir


def console() -> Console:
    """The console every report prints to: data is printed literally (no markup, no emoji codes), and
    when the output is not a terminal, tables are wide enough not to wrap ($COLUMNS sets the width)."""
    import os
    import sys

    wide = sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit()
    return Console(highlight=False, markup=False, emoji=False, width=None if wide else 160)


def _ci(m: dict[str, float]) -> str:
    return f"{m['value']:.3f}  [{m['ci_low']:.3f}, {m['ci_high']:.3f}]"


def confusion_table(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str,
                    corner: str = "gold \\ predicted") -> Table:
    """Counts and row-normalised rates, gold (or the first annotator) in rows."""
    t = Table(title=title)
    t.add_column(corner)
    for lab in labels:
        t.add_column(lab, justify="right")
    for lab, row in zip(labels, matrix):
        total = sum(row) or 1
        t.add_row(lab, *(f"{v} ({v / total:.0%})" for v in row))
    return t


def print_result(rec: dict[str, Any], con: Console) -> None:
    labels = rec["confusion"]["labels"]
    con.rule(Text.assemble((rec["model"], "bold"), f" · {rec['task']} · {rec['split']} split · n={rec['n_test']} ({rec['n_docs']} documents)"))
    t = Table(title="headline (95% CI, document bootstrap)")
    t.add_column("metric")
    t.add_column("value [CI]")
    for k, m in rec["metrics"].items():
        t.add_row(k, _ci(m))
    con.print(t)
    pc = Table(title="per class")
    for c in ("class", "precision", "recall", "F1", "support"):
        pc.add_column(c, justify="right" if c != "class" else "left")
    for lab in labels:
        v = rec["per_class"][lab]
        pc.add_row(lab, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]))
    con.print(pc)
    con.print(confusion_table(rec["confusion"]["matrix"], labels, "confusion matrix"))
    for key, title in (("per_actor", "macro-F1 per actor (≥10 test records)"), ("per_source", "macro-F1 per source")):
        if rec.get(key):
            g = Table(title=title)
            g.add_column(key.split("_")[1])
            g.add_column("macro-F1", justify="right")
            g.add_column("n", justify="right")
            for name, v in sorted(rec[key].items(), key=lambda kv: -kv[1]["n"]):
                g.add_row(name, f"{v['macro_f1']:.3f}", str(v["n"]))
            con.print(g)


def plot_path(models: Path, rec: dict[str, Any]) -> Path:
    return Path(models) / "plots" / f"confusion-{rec['task']}-{rec['split']}-{rec['model']}.png"


def print_summary(rec: dict[str, Any], con: Console) -> None:
    m = rec["metrics"]["macro_f1"]
    con.print(f"{rec['model']} · {rec['task']} · {rec['split']}: macro-F1 {_ci(m)} (n={rec['n_test']})")


def evaluate_and_record(names: Sequence[str], tasks: Sequence[str], splits: Sequence[str], labels: str | Path | None,
                        models: str | Path | None, plots: bool, con: Console, details: bool = True) -> list[dict[str, Any]]:
    """Evaluate, print each report, write the leaderboard files (with the human-ceiling rows when the
    agreement files exist) and the confusion PNGs."""
    from . import models as registry
    from .evaluation import evaluate
    from .plots import confusion_png

    mod, fp, humans = models_dir(models), fingerprint(labels), []
    lb.load(lb.path_jsonl(mod))  # an unreadable leaderboard stops the run before any work
    new: list[dict[str, Any]] = []
    for split in splits:
        for task in tasks:
            todo = [n for n in names if task in registry.get(n).tasks]
            for rec in evaluate(todo, task, split, labels, models):
                (print_result if details else print_summary)(rec, con)
                if plots:
                    title = f"{rec['model']} · {task} · {split} split · data {rec['data_fingerprint']}"
                    path = confusion_png(rec["confusion"]["matrix"], rec["confusion"]["labels"], title, plot_path(mod, rec))
                    con.print(f"confusion matrix picture: {path}")
                new.append(rec)
    if (labels_dir(labels) / "agreement" / "second.jsonl").exists():
        from .agreement import human_records

        humans = human_records(labels)
    lb.update(mod, new + humans, fp)
    print_leaderboard(tasks, splits, labels, models, con)
    con.print(f"wrote {lb.path_jsonl(mod)} and {lb.path_md(mod)}")
    return new


def print_leaderboard(tasks: Sequence[str], splits: Sequence[str] | None, labels: str | Path | None,
                      models: str | Path | None, con: Console) -> None:
    from .splits import SPLITS

    mod = models_dir(models)
    records = lb.rerank(lb.load(lb.path_jsonl(mod)), fingerprint(labels))
    if not records:
        con.print(f"no results yet in {lb.path_jsonl(mod)}: run `make eval`")
        return
    con.print(f"data fingerprint {fingerprint(labels)}")
    for task in tasks:
        for split in splits or SPLITS:
            rows = lb.table(records, task, split)
            if not rows:
                continue
            t = Table(title=f"leaderboard · {task} · {split} split")
            for c in ("rank", "model", *lb.COLUMNS[task], "p vs leader", "n"):
                t.add_column(c)
            for r in rows:
                t.add_row(*r)
            con.print(t)
    stale = [r for r in records if r.get("stale")]
    if stale:
        con.print(f"{len(stale)} stale record(s) from other data fingerprints are not ranked: re-run `make eval`")


def print_comparison(a: str, b: str, task: str, split: str, show: int, labels: str | Path | None,
                     models: str | Path | None, con: Console) -> dict[str, Any]:
    from . import metrics
    from .evaluation import predict_test, test_examples

    ex = test_examples(task, split, labels)
    pa = predict_test(a, task, split, labels, models, ex, reuse=True)
    pb = predict_test(b, task, split, labels, models, ex, reuse=True)
    labs = labels_for(task)
    _, DA = metrics.doc_confusions(ex.groups, ex.y, pa.y_pred, labs)
    _, DB = metrics.doc_confusions(ex.groups, ex.y, pb.y_pred, labs)
    diff, p = metrics.paired_bootstrap_pvalue(DA, DB)
    fa, fb = metrics.f1_per_class(DA.sum(0)), metrics.f1_per_class(DB.sum(0))
    con.rule(f"{a} vs {b} · {task} · {split} split · n={len(ex)}")
    verdict = "significant at 5%" if p < 0.05 else "not significant at 5%: they share a rank"
    con.print(f"macro-F1 {a} {metrics.macro_f1_score(DA.sum(0)):.3f}, {b} {metrics.macro_f1_score(DB.sum(0)):.3f}; "
              f"difference {diff:+.3f}, paired bootstrap over documents p = {p:.4f} ({verdict})")
    t = Table(title="per-class F1")
    for c in ("class", a, b, "difference"):
        t.add_column(c)
    for lab, x, y in zip(labs, fa, fb):
        t.add_row(lab, f"{x:.3f}", f"{y:.3f}", f"{x - y:+.3f}")
    con.print(t)
    dis = [i for i in range(len(ex)) if pa.y_pred[i] != pb.y_pred[i]]
    if not dis:
        con.print("the two models make the same prediction on every test record")
    else:
        t = Table(title=f"{len(dis)} records where they disagree (first {min(show, len(dis))})")
        for c in ("id", "text", "gold", a, b):
            t.add_column(c, overflow="fold")
        for i in dis[:show]:
            text = ex.X["text"].iloc[i]
            t.add_row(ex.X["id"].iloc[i], text if len(text) <= 160 else text[:159].rsplit(" ", 1)[0] + " …",
                      ex.y[i], pa.y_pred[i], pb.y_pred[i])
        con.print(t)
    return {"difference": diff, "p_value": p, "disagreements": len(dis)}


def print_agreement(labels: str | Path | None, models: str | Path | None, record: bool, con: Console) -> dict[str, Any]:
    from .agreement import agreement, human_records

    if record:
        lb.load(lb.path_jsonl(models_dir(models)))  # an unreadable leaderboard stops the run before any work
    res = agreement(labels)
    con.rule("inter-annotator agreement (first vs independent second annotation)")
    sk = res["skips"]
    con.print(f"sample {res['sample']} sentences; labelled by both {res['both_labelled']}; skipped by both {sk['both']}, "
              f"by the first only {sk['first_only']}, by the second only {sk['second_only']} "
              f"(on-topic/skip agreement {res['skip_agreement']:.3f})")
    t, s = res["tension"], res["stance"]
    tab = Table(title="agreement")
    tab.add_column("figure")
    tab.add_column("value", justify="right")
    rows = [("tension: Cohen's kappa", t["cohen_kappa"]), ("tension: Krippendorff's alpha (ordinal)", t["krippendorff_alpha_ordinal"]),
            ("tension: Krippendorff's alpha (nominal)", t["krippendorff_alpha_nominal"]), ("tension: observed agreement", t["observed_agreement"]),
            ("stance: actor-set F1", s["actor_set_f1"]), ("stance: Cohen's kappa (pairs both annotated)", s["cohen_kappa"]),
            ("stance: Krippendorff's alpha (nominal)", s["krippendorff_alpha_nominal"]), ("stance: observed agreement", s["observed_agreement"])]
    for name, v in rows:
        tab.add_row(name, "–" if v is None else f"{v:.3f}")
    con.print(tab)
    con.print(f"stance pairs: first {s['actors_first']} actors, second {s['actors_second']}, both {s['actors_both']}; "
              f"{s['n']} (sentence, actor) pairs compared")
    for task, part in (("tension", t), ("stance", s)):
        pc = Table(title=f"{task}: per-class specific agreement")
        pc.add_column("class")
        pc.add_column("agreement", justify="right")
        for lab, v in part["per_class_agreement"].items():
            pc.add_row(lab, "–" if v is None else f"{v:.3f}")
        con.print(pc)
        con.print(confusion_table(part["confusion"]["matrix"], part["confusion"]["labels"],
                                  f"{task}: first annotator (rows) vs second (columns)", corner="first \\ second"))
    if record:
        mod = models_dir(models)
        humans = human_records(labels)
        lb.update(mod, humans, fingerprint(labels))
        for h in humans:
            con.print(f"human ceiling · {h['task']}: macro-F1 {_ci(h['metrics']['macro_f1'])} on {h['n_test']} records "
                      f"(second annotator vs adjudicated gold)" + (f"; coverage {h['coverage']:.2f}" if h.get("coverage") else ""))
        con.print(f"human rows written to {lb.path_jsonl(mod)}")
    return res


