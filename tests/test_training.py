from __future__ import annotations

from pathlib import Path

import pytest

from bench.models import training


def test_training_reads_the_records_once_per_data(labels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Path] = []
    real = training.load_records
    monkeypatch.setattr(training, "load_records", lambda lab: reads.append(lab) or real(lab))
    monkeypatch.setattr(training, "_data", {})
    first = training.train("majority", "tension", labels=labels, models=tmp_path / "m")
    second = training.train("stratified", "tension", labels=labels, models=tmp_path / "m")
    training.train("majority", "stance", labels=labels, models=tmp_path / "m")
    assert len(reads) == 1
    assert not first.skipped and not second.skipped
    with (labels / "actors.toml").open("a") as f:  # other data: another fingerprint
        f.write("\n# a note\n")
    again = training.train("majority", "tension", labels=labels, models=tmp_path / "m")
    assert len(reads) == 2 and not again.skipped  # re-read, and the saved model is stale
