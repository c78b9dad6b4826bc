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

from .scoring import leaderboard as lb
from .scoring.recording import confusion_path
from .data.store import fingerprint, models_dir
from .data.tasks import TASK_SPECS


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


def print_summary(rec: dict[str, Any], con: Console) -> None:
    primary = TASK_SPECS[rec["task"]].primary
    con.print(f"{rec['model']} · {rec['task']} · {rec['split']}: {primary} {_ci(rec['metrics'][primary])} (n={rec['n_test']})")


def print_evaluation(names: Sequence[str], tasks: Sequence[str], splits: Sequence[str], labels: str | Path | None,
                     models: str | Path | None, plots: bool, con: Console, details: bool = True) -> list[dict[str, Any]]:
    """Lay out `recording.evaluate_and_record`: each report as it comes, the files written, the leaderboard."""
    from .scoring.recording import evaluate_and_record

    new, written = evaluate_and_record(names, tasks, splits, labels, models, plots,
                                       on_record=lambda rec: (print_result if details else print_summary)(rec, con))
    print_written(written, con)
    print_leaderboard(tasks, splits, labels, models, con)
    return new


def print_written(paths: Sequence[Path], con: Console) -> None:
    """The files a recording step wrote: leaderboard files in full, pictures by folder."""
    pngs = [p for p in paths if p.suffix == ".png"]
    con.print("wrote " + ", ".join(str(p) for p in paths if p.suffix != ".png")
              + (f" and {len(pngs)} picture(s) in {pngs[0].parent}" if pngs else ""))
    for p in pngs:
        if p.name.startswith("leaderboard-"):
            con.print(f"leaderboard picture: {p}")


def print_score(rec: dict[str, Any], models: str | Path | None, plots: bool, con: Console) -> None:
    """An external model's report, where it ranks, its card, and the files written."""
    print_result(rec, con)
    mod = models_dir(models)
    con.print(Text(f"{lb.EXTERNAL_MARK} {rec['model']} (external): {lb.card_line(rec)}"))
    ranked = next((r for r in lb.load(lb.path_jsonl(mod))
                   if (r["task"], r["split"], r["model"]) == (rec["task"], rec["split"], rec["model"])), None)
    if ranked and ranked.get("rank") is not None:
        p = "leader" if ranked["model"] == ranked["leader"] else f"p vs leader {ranked['leader']} = {ranked['p_value']:.3f}"
        con.print(Text(f"{rec['model']} ranks {ranked['rank']} on the {rec['task']} · {rec['split']} leaderboard ({p})"))
    con.print(Text(f"predictions kept as {mod / rec['predictions_file']} (sha256 {rec['predictions_sha256']})"))
    written = [lb.path_jsonl(mod), lb.path_md(mod)]
    if plots:
        written += [confusion_path(mod, rec), lb.picture_path(mod, rec["task"], rec["split"])]
    print_written(written, con)


def print_leaderboard(tasks: Sequence[str], splits: Sequence[str] | None, labels: str | Path | None,
                      models: str | Path | None, con: Console) -> None:
    from .data.splits import SPLITS

    mod = models_dir(models)
    fp = fingerprint(labels)
    records = lb.ranked(lb.load(lb.path_jsonl(mod)), fp)
    if not records:
        con.print(f"no results yet in {lb.path_jsonl(mod)}: run {rerun_hint(labels, models)}")
        return
    con.print(f"data fingerprint {fp}")
    newest: dict[str, str] = {}
    for r in records:
        if r.get("stale"):
            newest[r["data_fingerprint"]] = max(newest.get(r["data_fingerprint"], ""), r.get("evaluated_at") or "")
    stale_fps = sorted(newest, key=lambda f: newest[f], reverse=True)
    for data in [None, *stale_fps]:
        for task in tasks:
            for split in splits or SPLITS:
                rows = lb.table(records, task, split, data=data)
                if not rows:
                    continue
                title = (f"leaderboard · {task} · {split} split" if data is None else
                         f"STALE · {task} · {split} split · data {data} (the labels are now {fp}; not ranked)")
                t = Table(title=title, title_style=None if data is None else "bold yellow")
                for c in ("rank" if data is None else "stale", "model", *lb.COLUMNS[task], "p vs leader", "n"):
                    t.add_column(c)
                for r in rows:
                    t.add_row(*r)
                con.print(t)
                for r in lb.externals(records, task, split) if data is None else []:
                    con.print(Text(f"{lb.EXTERNAL_MARK} {r['model']} (external): {lb.card_line(r)}"))
    if stale_fps:
        n = sum(1 for r in records if r.get("stale"))
        con.print(f"{n} stale record(s) made on other data ({', '.join(stale_fps)}) are shown apart and not ranked: "
                  f"re-run {rerun_hint(labels, models)} (external rows: run `stance-bench score` again on their file)")


def print_dropped_stale(labels: str | Path | None, models: str | Path | None, con: Console) -> list[dict[str, Any]]:
    """Remove the stale rows (`leaderboard.drop_stale`) and list them, one line each."""
    fp = fingerprint(labels)
    dropped = lb.drop_stale(models_dir(models), fp)
    for r in dropped:
        con.print(Text(f"removed stale row: {r['task']} · {r['split']} · {lb.display_name(r)} · data {r['data_fingerprint']}"))
    con.print(f"removed {len(dropped)} stale row(s) from {lb.path_jsonl(models_dir(models))} (the labels are {fp})")
    return dropped


def rerun_hint(labels: str | Path | None = None, models: str | Path | None = None) -> str:
    """How to bring the leaderboard up to date, on the user's own folders when they gave any."""
    from .models.artifacts import fix_command

    if labels is None and models is None:
        return "`make eval`"
    return f"`{fix_command(['train'], labels=labels, models=models)}` and `{fix_command(['eval'], labels=labels, models=models)}`"


def print_comparison(a: str, b: str, task: str, split: str, show: int, labels: str | Path | None,
                     models: str | Path | None, con: Console) -> dict[str, Any]:
    from .scoring.cards import summary
    from .scoring.comparison import compare
    from .scoring.submission import external_card

    c = compare(a, b, task, split, labels, models)
    side = c.side
    con.rule(f"{a} vs {b} · {task} · {split} split · n={len(side)}")
    for name in (a, b):
        card = external_card(name, task, split, models)
        if card is not None:
            con.print(Text(f"{lb.EXTERNAL_MARK} {name} (external): {summary(card, name)}"))
    verdict = "significant at 5%" if c.p_value < 0.05 else "not significant at 5%: they share a rank"
    con.print(f"{c.primary} {a} {c.score_a:.3f}, {b} {c.score_b:.3f}; "
              f"difference {c.difference:+.3f}, paired bootstrap over documents p = {c.p_value:.4f} ({verdict})")
    t = Table(title="per-class F1")
    for col in ("class", a, b, "difference"):
        t.add_column(col)
    for lab, x, y in zip(c.labels, c.f1_a, c.f1_b):
        t.add_row(lab, f"{x:.3f}", f"{y:.3f}", f"{x - y:+.3f}")
    con.print(t)
    dis = c.disagreements
    if not dis:
        con.print("the two models make the same prediction on every test record")
    else:
        t = Table(title=f"{len(dis)} records where they disagree (first {min(show, len(dis))})")
        for col in ("id", "text", "gold", a, b):
            t.add_column(col, overflow="fold")
        for i in dis[:show]:
            text = side.text[i]
            t.add_row(side.ids[i], text if len(text) <= 160 else text[:159].rsplit(" ", 1)[0] + " …",
                      side.y[i], c.y_a[i], c.y_b[i])
        con.print(t)
    return {"difference": c.difference, "p_value": c.p_value, "disagreements": len(dis)}


def print_agreement(labels: str | Path | None, models: str | Path | None, record: bool, con: Console) -> dict[str, Any]:
    from .annotation.agreement import agreement, human_records

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
        from .scoring.recording import record_results

        mod = models_dir(models)
        humans = human_records(labels)
        record_results(humans, labels, models, plots=True)
        for h in humans:
            primary = TASK_SPECS[h["task"]].primary
            con.print(f"human ceiling · {h['task']}: {primary} {_ci(h['metrics'][primary])} on {h['n_test']} records "
                      f"(second annotator vs adjudicated gold)" + (f"; coverage {h['coverage']:.2f}" if h.get("coverage") else ""))
        con.print(f"human rows written to {lb.path_jsonl(mod)}")
    return res


