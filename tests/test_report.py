"""Terminal reports print the data literally: text, sources, model names and paths are never markup."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.models import registry
from bench.cli import app

from .conftest import LABELS, read

runner = CliRunner(env={"COLUMNS": "400"})

SOURCE = "[/bold]x[link=http://example.invalid]click[/link]:smile:"
MODEL = "[i]m[link=x]"
KREMLIN = "kremlin-213ff2495aa8"


def hostile_labels(labels: Path) -> None:
    """Every source is markup, every text ends in square brackets, and the real kremlin-213ff2495aa8 is in."""
    kremlin = next(r for r in read(LABELS / "kremlin.jsonl") if r["id"] == KREMLIN)
    for path in labels.glob("*.jsonl"):
        recs = [r for r in read(path) if r["id"] != KREMLIN]
        for r in recs:
            r["source"] = SOURCE
            r["text"] += " [of developing nations]"
        if path.stem == "kremlin":
            recs.append(kremlin)
        path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    second = [{"id": r["id"], "tension": r["tension"], "stances": r["stances"]} for r in read(labels / "kremlin.jsonl")[:6]]
    (labels / "agreement").mkdir()
    for name in ("first.jsonl", "second.jsonl"):
        (labels / "agreement" / name).write_text("".join(json.dumps(r) + "\n" for r in second))


def test_every_command_prints_hostile_data_literally(labels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile_labels(labels)
    monkeypatch.setitem(registry.REGISTRY, MODEL, dataclasses.replace(registry.get("majority"), name=MODEL))
    models = tmp_path / "[/i]models"
    common = ["--labels", str(labels), "--models", str(models)]
    pair = ["-m", MODEL, "-m", "actor-prior", "-t", "stance"]
    checks = [
        (["validate", "--labels", str(labels)], []),
        (["stats", "--labels", str(labels)], [SOURCE]),
        (["train", *pair, *common], [MODEL]),
        (["eval", *pair, "--no-plots", *common], [MODEL, f"wrote {models}"]),
        (["eval", *pair, "--no-plots", "--no-details", *common], [MODEL]),
        (["leaderboard", "-t", "stance", *common], [MODEL]),
        (["compare", MODEL, "actor-prior", "-t", "stance", "--show", "1000", *common], [MODEL, "[of developing nations]"]),
        (["agreement", *common], [str(models)]),
    ]
    for args, literal in checks:
        res = runner.invoke(app, args)
        assert res.exit_code == 0, (args, res.output)
        for text in literal:
            assert text in res.output, (args, text, res.output)
        assert "\x1b]8;" not in res.output and "😄" not in res.output

