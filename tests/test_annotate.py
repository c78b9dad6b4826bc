"""annotate: raw text in, actors with stances and the tension out, end to end."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.analysis.annotate import annotate, leader
from bench.cli import app
from bench.models.predict import InputError
from bench.data.sentences import split_sentences as split, split_stream
from bench.models.training import train

from .conftest import read

runner = CliRunner()
ARTICLE = """Moscow threatened on Tuesday to aim its missiles at Poland if the U.S. went ahead with its plans.
Mr. Lavrov said Russia would respond "by military means".

NATO foreign ministers, meeting in Brussels, said the Alliance remained open to dialogue with Russia.
The talks ended without agreement.
"""


@pytest.fixture(scope="module")
def models3(trained: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The session's trained models plus the actors filter, in a copy of their own."""
    lab, mod = trained
    mine = tmp_path_factory.mktemp("annotate") / "models"
    shutil.copytree(mod, mine)
    for name in ("gazetteer", "actor-filter"):
        train(name, "actors", "document", 0, lab, mine)
    return lab, mine


def test_splitter_keeps_abbreviations_and_paragraphs() -> None:
    assert split(ARTICLE)[:2] == ["Moscow threatened on Tuesday to aim its missiles at Poland if the U.S. went ahead with its plans.",
                                  'Mr. Lavrov said Russia would respond "by military means".']
    assert len(split(ARTICLE)) == 4 and list(split_stream(ARTICLE.splitlines(keepends=True))) == split(ARTICLE)


def test_annotate_a_plain_text_article_end_to_end(models3: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = models3
    article = tmp_path / "article-2008.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    res = annotate(article, tmp_path / "out.jsonl", labels=lab, models=mod, batch_size=3)
    out = read(tmp_path / "out.jsonl")
    assert res["sentences"] == len(out) == 4 and res["models"]["actors"] == "actor-filter"
    assert [o["id"] for o in out] == [f"article-2008-{i}" for i in range(1, 5)] and {o["doc"] for o in out} == {"article-2008"}
    assert out[0]["text"].startswith("Moscow threatened")
    for o in out:
        assert o["tension"] in ("low", "medium", "high")
        assert sum(o["tension_probabilities"].values()) == pytest.approx(1, abs=1e-4)
        for a in o["actors"]:
            assert set(a) == {"actor", "mention", "stance", "probabilities"}
            assert a["mention"] is None or a["mention"] in o["text"]
            assert a["stance"] == max(a["probabilities"], key=a["probabilities"].get)
    # every actor reported is one the gazetteer found in that sentence
    found = {("RUS", "Moscow"), ("POL", "Poland"), ("USA", "U.S."), ("RUS", "Russia"), ("NATO", "NATO"), ("EU", "Brussels")}
    assert {(a["actor"], a["mention"]) for o in out for a in o["actors"]} <= found
    from bench.analysis.postures import predicted_sentences  # the output is what `postures --predictions` reads

    assert [s.id for s in predicted_sentences(tmp_path / "out.jsonl")] == [o["id"] for o in out]


def test_annotate_jsonl_keeps_id_and_context_and_speaker(models3: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = models3
    inp = tmp_path / "speech.jsonl"
    rows = [{"id": "s1", "text": "We will never accept the enlargement of NATO to our borders.", "speaker_country": "RUS",
             "date": "2007-02-10", "source": "speech", "speaker": "Vladimir Putin"},
            {"id": "s2", "text": "The weather was fine."}]
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    annotate(inp, tmp_path / "out.jsonl", stance_model="tfidf-lr", tension_model="majority", actors_model="gazetteer",
             labels=lab, models=mod)
    out = read(tmp_path / "out.jsonl")
    assert [o["id"] for o in out] == ["s1", "s2"]
    assert {k: out[0][k] for k in ("date", "source", "speaker", "speaker_country")} == {k: rows[0][k] for k in ("date", "source", "speaker", "speaker_country")}
    assert [(a["actor"], a["mention"]) for a in out[0]["actors"]] == [("NATO", "NATO"), ("RUS", None)]
    assert out[1]["actors"] == []


def test_bad_input_names_the_line_and_writes_nothing(models3: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = models3
    inp = tmp_path / "in.csv"
    inp.write_text('text,source\n"NATO met.",x\n"",y\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"in.csv:3: text"):
        annotate(inp, tmp_path / "out.jsonl", labels=lab, models=mod)
    assert not (tmp_path / "out.jsonl").exists() and not list(tmp_path.glob(".out.jsonl*"))
    res = runner.invoke(app, ["annotate", str(inp), "-o", str(tmp_path / "out.jsonl"), "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 1 and "in.csv:3: text" in res.output and "Traceback" not in res.output


def test_cli_annotate_and_default_models(models3: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = models3
    assert leader("stance", labels=lab, models=mod) == "tfidf-lr"  # no leaderboard here: the fallback
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    res = runner.invoke(app, ["annotate", str(article), "-o", str(tmp_path / "o.jsonl"), "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    assert "wrote 4 sentence(s)" in res.output and len(read(tmp_path / "o.jsonl")) == 4


def test_default_model_skips_external_rows_and_untrained_models(models3: tuple[Path, Path], tmp_path: Path) -> None:
    """An external leader (predictions made elsewhere) or an untrained one cannot annotate: take the next runnable."""
    from bench.data.store import fingerprint
    from bench.scoring import leaderboard as lb
    from bench.scoring.evaluation import evaluate

    lab, mod0 = models3
    mod = tmp_path / "models"
    shutil.copytree(mod0, mod)
    recs = evaluate(["majority", "actor-prior"], "stance", "document", lab, mod)
    best = max(recs, key=lambda r: r["metrics"]["macro_f1"]["value"])
    ext = {**json.loads(json.dumps(best)), "model": "ext-model", "external": True}
    ghost = {**json.loads(json.dumps(best)), "model": "tfidf-svm"}  # registered, not trained in this folder
    k = len(best["confusion"]["labels"])
    for rec in (ext, ghost):  # perfect answers: they outrank every real model
        rec["doc_confusion"]["counts"] = [[sum(c[i * k:(i + 1) * k]) if i == j else 0 for i in range(k) for j in range(k)]
                                          for c in rec["doc_confusion"]["counts"]]
    lb.save([*recs, ext, ghost], mod, fingerprint(lab))
    assert leader("stance", labels=lab, models=mod) == best["model"]
