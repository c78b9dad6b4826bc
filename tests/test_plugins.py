"""Plugins: a model from an installed distribution's entry point and one from a `--plugin` module
trains, evaluates and predicts through the CLI, and the records name the plugin."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.models import registry as models, plugins
from bench.cli import app
from tests.conftest import read, small_labels

runner = CliRunner()

PLUGIN_CODE = '''
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import bench


def factory(task, seed):
    return Pipeline([("features", ColumnTransformer([("word", TfidfVectorizer(), "text")])),
                     ("clf", LogisticRegression(max_iter=500, C={C}, random_state=seed))])


def register_all():
    bench.register("{name}", factory, grid={{"clf__C": [{C}]}}, tasks=("tension",), description="a plugin model")
'''


@pytest.fixture()
def clean_registry():
    """Plugins register into the process-wide registry: restore it (and the entry-point cache) afterwards."""
    saved, origins, loaded = dict(models.REGISTRY), dict(plugins.ORIGINS), plugins._entry_points_loaded
    plugins._entry_points_loaded = False
    yield
    models.REGISTRY.clear()
    models.REGISTRY.update(saved)
    plugins.ORIGINS.clear()
    plugins.ORIGINS.update(origins)
    plugins._entry_points_loaded = loaded
    for m in ("extplug", "localplug", "badplug", "emptyplug"):
        sys.modules.pop(m, None)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_labels(tmp_path_factory.mktemp("plug") / "labels", docs_per_dataset=10)


def distribution(root: Path, monkeypatch: pytest.MonkeyPatch, entry: str = "plug-models = extplug:register_all") -> Path:
    """A package `extplug` with an installed-looking `extplug-0.3.1.dist-info` (entry_points.txt) on sys.path."""
    (root / "extplug").mkdir(parents=True)
    (root / "extplug" / "__init__.py").write_text(PLUGIN_CODE.format(name="ext-lr", C=1.0))
    info = root / "extplug-0.3.1.dist-info"
    info.mkdir()
    info.joinpath("METADATA").write_text("Metadata-Version: 2.1\nName: extplug\nVersion: 0.3.1\n")
    info.joinpath("top_level.txt").write_text("extplug\n")
    info.joinpath("RECORD").write_text("extplug/__init__.py,,\n")
    info.joinpath("entry_points.txt").write_text(f"[stance_bench.models]\n{entry}\n")
    monkeypatch.syspath_prepend(str(root))
    return root


def test_entry_point_model_trains_evaluates_predicts(lab, tmp_path, monkeypatch, clean_registry):
    distribution(tmp_path / "site", monkeypatch)
    mod = tmp_path / "models"
    common = ["--labels", str(lab), "--models", str(mod)]
    r = runner.invoke(app, ["train", "-m", "ext-lr", "-t", "tension", "--jobs", "1", *common])
    assert r.exit_code == 0, r.output
    manifest = json.loads((mod / "document" / "tension" / "ext-lr.json").read_text())
    assert manifest["plugin"] == {"package": "extplug", "version": "0.3.1", "module": "extplug",
                                  "entry_point": "stance_bench.models:plug-models"}
    r = runner.invoke(app, ["eval", "-m", "ext-lr", "-t", "tension", "--no-plots", "--no-details", *common])
    assert r.exit_code == 0, r.output
    rec = next(x for x in read(mod / "leaderboard.jsonl") if x["model"] == "ext-lr")
    assert rec["plugin"]["package"] == "extplug" and rec["plugin"]["version"] == "0.3.1"
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "Russia threatens NATO with missiles on the border."}) + "\n")
    r = runner.invoke(app, ["predict", "-m", "ext-lr", "-t", "tension", "-i", str(inp), "-o", str(tmp_path / "out.jsonl"), *common])
    assert r.exit_code == 0, r.output
    assert read(tmp_path / "out.jsonl")[0]["prediction"] in ("low", "medium", "high")
    r = runner.invoke(app, ["train", "-m", "majority", "-t", "tension", "--jobs", "1", *common])
    r = runner.invoke(app, ["compare", "ext-lr", "majority", "-t", "tension", *common])
    assert r.exit_code == 0 and "paired bootstrap" in r.output, r.output


def test_plugin_module_and_editing_it_retrains(lab, tmp_path, monkeypatch, clean_registry):
    src = tmp_path / "src"
    src.mkdir()
    (src / "localplug.py").write_text(PLUGIN_CODE.format(name="local-lr", C=1.0) + "\nregister_all()\n")
    monkeypatch.syspath_prepend(str(src))
    mod = tmp_path / "models"
    common = ["--labels", str(lab), "--models", str(mod), "--plugin", "localplug"]
    r = runner.invoke(app, ["train", "-m", "local-lr", "-t", "tension", "--jobs", "1", *common])
    assert r.exit_code == 0, r.output
    first = json.loads((mod / "document" / "tension" / "local-lr.json").read_text())
    assert first["plugin"]["module"] == "localplug" and first["plugin"]["package"] == "localplug"
    r = runner.invoke(app, ["train", "-m", "local-lr", "-t", "tension", "--jobs", "1", *common])
    assert "up to date" in r.output
    # editing the plugin's file makes its saved model stale: the same command retrains it
    # (a different length too, so that a cached .pyc written within the same second is not reused)
    (src / "localplug.py").write_text(PLUGIN_CODE.format(name="local-lr", C=0.25) + "\nregister_all()\n")
    r = runner.invoke(app, ["train", "-m", "local-lr", "-t", "tension", "--jobs", "1", *common])
    assert r.exit_code == 0, r.output
    assert "up to date" not in r.output
    second = json.loads((mod / "document" / "tension" / "local-lr.json").read_text())
    assert second["code"] != first["code"] and second["params"] == {"clf__C": 0.25}
    r = runner.invoke(app, ["eval", "-m", "local-lr", "-t", "tension", "--no-plots", "--no-details", *common])
    assert r.exit_code == 0, r.output
    assert next(x for x in read(mod / "leaderboard.jsonl") if x["model"] == "local-lr")["plugin"]["module"] == "localplug"
    # without --plugin (a new process: nothing imported it) the name is unknown, and the message says how to fix it
    models.REGISTRY.pop("local-lr")
    r = runner.invoke(app, ["eval", "-m", "local-lr", "-t", "tension", "--labels", str(lab), "--models", str(mod)])
    assert r.exit_code == 1 and "--plugin" in r.output


@pytest.mark.parametrize("case", ["missing", "raises", "registers-nothing", "entry-point"])
def test_broken_plugin_is_one_line(case, lab, tmp_path, monkeypatch, clean_registry):
    src = tmp_path / "src"
    src.mkdir()
    monkeypatch.syspath_prepend(str(src))
    args = ["train", "-t", "tension", "--labels", str(lab), "--models", str(tmp_path / "models")]
    if case == "missing":
        args += ["--plugin", "no_such_plugin_module"]
    elif case == "raises":
        (src / "badplug.py").write_text("raise RuntimeError('boom')\n")
        args += ["--plugin", "badplug"]
    elif case == "registers-nothing":
        (src / "emptyplug.py").write_text("X = 1\n")
        args += ["--plugin", "emptyplug"]
    else:
        distribution(tmp_path / "site", monkeypatch, entry="broken = extplug:no_such_function")
        args += ["-m", "some-plugin-model"]
    r = runner.invoke(app, args)
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "plugin" in lines[0] and "Traceback" not in r.output, r.output
    assert not (tmp_path / "models").exists()


def test_entry_point_returning_specs(tmp_path, monkeypatch, clean_registry):
    root = tmp_path / "site"
    distribution(root, monkeypatch, entry="specs = extplug:SPECS")
    (root / "extplug" / "__init__.py").write_text(textwrap.dedent('''
        from bench.models.registry import ModelSpec, REGISTRY
        SPECS = [ModelSpec("spec-majority", REGISTRY["majority"].factory, tasks=("tension",))]
    '''))
    assert models.get("spec-majority").tasks == ("tension",)
    assert plugins.provenance("spec-majority")["plugin"]["version"] == "0.3.1"
    assert plugins.provenance("majority") == {}
