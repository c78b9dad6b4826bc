from __future__ import annotations

import shutil
from pathlib import Path

from bench.scoring import leaderboard as lb
from bench.scoring.evaluation import evaluate
from bench.scoring.recording import evaluate_and_record, record_results


def test_evaluate_and_record_writes_leaderboard_and_pictures(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, trained_mod = trained
    mod = shutil.copytree(trained_mod, tmp_path / "models")
    new, written = evaluate_and_record(["majority", "tfidf-lr"], ["tension"], ["document"], lab, mod)
    assert [r["model"] for r in new] == ["majority", "tfidf-lr"]
    assert new[1]["metrics"] == evaluate(["tfidf-lr"], "tension", "document", lab, mod)[0]["metrics"]
    forest = lb.picture_path(mod, "tension", "document")
    assert forest in written and forest.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (mod / "plots" / "confusion-tension-document-tfidf-lr.png").exists()
    md = lb.path_md(mod).read_text()
    assert "![tension · document split: scores with intervals](plots/leaderboard-tension-document.png)" in md
    recs = lb.load(lb.path_jsonl(mod))
    assert {r["model"] for r in recs} == {"majority", "tfidf-lr"}
    assert next(r for r in recs if r["model"] == "tfidf-lr")["rank"] == 1
    # recording the same records again changes nothing; without plots no picture is written or linked anew
    before = lb.path_jsonl(mod).read_bytes()
    forest.unlink()
    assert record_results(new, lab, mod, plots=False) == [lb.path_jsonl(mod), lb.path_md(mod)]
    assert lb.path_jsonl(mod).read_bytes() == before and not forest.exists()
    assert "leaderboard-tension-document.png" not in lb.path_md(mod).read_text()


def test_markdown_escapes_card_text_and_marks_external_rows() -> None:
    rec = {"task": "stance", "split": "document", "model": "x-1", "external": True, "stale": False,
           "card": {"name": "*bold* | pipe", "trained_on": "none", "reference": "https://e.org/a_(b)"}}
    assert lb.display_name(rec, markdown=True) == "[x-1](https://e.org/a_%28b%29) †"
    assert lb.display_name(rec) == "x-1 †"
    assert lb.md_escape(lb.card_line(rec)).startswith("\\*bold\\* \\| pipe; zero-shot")


def test_forest_plot_rows_follow_the_ranking_with_floor_ceiling_and_external_marks(monkeypatch, tmp_path: Path) -> None:
    import bench.scoring.plots

    def rec(model: str, value: float, split: str = "document", **extra) -> dict:
        return {"task": "stance", "split": split, "model": model, "n_test": 10, "stale": False, "rank": extra.pop("rank", 1),
                "metrics": {"macro_f1": {"value": value, "ci_low": value - 0.1, "ci_high": value + 0.1}}, **extra}

    seen = {}
    monkeypatch.setattr(bench.scoring.plots, "forest_png", lambda points, lines, metric, title, path: seen.setdefault(path.name, (points, lines)))
    from bench.scoring.recording import forest_plots

    recs = [rec("majority", 0.2, rank=3), rec("ext", 0.6, external=True), rec("tfidf-lr", 0.7),
            rec("human", 0.95), rec("tfidf-lr", 0.5, split="temporal")]
    forest_plots(recs, tmp_path, "fp")
    points, lines = seen["leaderboard-stance-document.png"]
    assert [p[0] for p in points] == ["1. tfidf-lr", "1. ext †", "3. majority"] and [p[2] for p in points] == [False, True, False]
    assert lines == {"majority (floor)": recs[0]["metrics"]["macro_f1"],
                     "human (ceiling, agreement sample)": recs[3]["metrics"]["macro_f1"]}
    assert list(seen["leaderboard-stance-temporal.png"][1]) == ["human (ceiling, agreement sample)"]
