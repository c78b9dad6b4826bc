from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app

from .conftest import read

runner = CliRunner(env={"COLUMNS": "200"})


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.jsonl"))}


def test_help_does_not_import_heavy_libraries() -> None:
    code = "import sys; from bench.cli import app; print(any(m in sys.modules for m in ('sklearn', 'datasets', 'matplotlib', 'pandas')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0 and "leaderboard" in res.output


def test_validate_and_stats(labels: Path) -> None:
    res = runner.invoke(app, ["validate", "--labels", str(labels)])
    assert res.exit_code == 0 and res.output.startswith("OK:")
    res = runner.invoke(app, ["stats", "--labels", str(labels)])
    assert res.exit_code == 0 and "by dataset" in res.output and "deterrence-seeking" in res.output


def test_validate_reports_problems(labels: Path) -> None:
    (labels / "bad.jsonl").write_text(json.dumps({"id": "b1", "text": "x", "doc": "d", "tension": "hot", "stances": [],
                                                   "source": "s", "license": "l"}) + "\n")
    res = runner.invoke(app, ["validate", "--labels", str(labels)])
    assert res.exit_code == 1 and "bad.jsonl:1: tension: 'hot' is not one of low, medium, high" in res.output


def test_add_appends_a_valid_sentence(labels: Path) -> None:
    res = runner.invoke(app, ["add", "Moscow threatened to aim missiles at Poland.", "--tension", "high", "--doc", "user-doc-1",
                              "--source", "my reading", "--license", "CC0-1.0", "--actor", "RUS=deterrence-seeking",
                              "--mention", "RUS=Moscow", "--date", "2008-07-09", "--labels", str(labels)])
    assert res.exit_code == 0, res.output
    rec = read(labels / "user.jsonl")[-1]
    assert rec["stances"] == [{"actor": "RUS", "stance": "deterrence-seeking", "mention": "Moscow"}]
    assert rec["tension"] == "high" and rec["license"] == "CC0-1.0" and rec["date"] == "2008-07-09"


def test_add_unknown_actor_suggests_and_changes_nothing(labels: Path) -> None:
    before = snapshot(labels)
    res = runner.invoke(app, ["add", "Russia warned Estonia.", "--tension", "medium", "--doc", "d", "--source", "s",
                              "--license", "CC0-1.0", "--actor", "Estonai=cautious", "--labels", str(labels)])
    assert res.exit_code == 1 and "unknown actor 'Estonai'" in res.output and "EST" in res.output
    assert snapshot(labels) == before


def test_add_bad_label_names_the_field_and_changes_nothing(labels: Path) -> None:
    before = snapshot(labels)
    res = runner.invoke(app, ["add", "Russia warned Estonia.", "--tension", "tense", "--doc", "d", "--source", "s",
                              "--license", "CC0-1.0", "--actor", "RUS=angry", "--dataset", "seed-news", "--labels", str(labels)])
    assert res.exit_code == 1
    assert "seed-news.jsonl:" in res.output and ": tension: 'tense'" in res.output and "stances[0].stance" in res.output
    res = runner.invoke(app, ["add", "Russia warned Estonia.", "--tension", "medium", "--doc", "d", "--source", "s",
                              "--license", "CC0-1.0", "--actor", "RUS", "--labels", str(labels)])
    assert res.exit_code == 1 and "ACTOR=" in res.output
    assert snapshot(labels) == before


def test_train_eval_leaderboard_compare_end_to_end(labels: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    common = ["--labels", str(labels), "--models", str(models)]
    res = runner.invoke(app, ["train", "-m", "majority", "-m", "tfidf-lr-blind", *common])
    assert res.exit_code == 0, res.output
    assert "CV macro-F1" in res.output and "trained" in res.output
    res = runner.invoke(app, ["train", "-m", "majority", *common])
    assert "up to date" in res.output
    res = runner.invoke(app, ["eval", "-m", "majority", "-m", "tfidf-lr-blind", *common])
    assert res.exit_code == 0, res.output
    for text in ("macro_f1", "per class", "confusion matrix", "gold \\ predicted", "severe_error_rate", "qwk", "leaderboard"):
        assert text in res.output
    assert (models / "leaderboard.jsonl").exists() and (models / "LEADERBOARD.md").exists()
    pngs = sorted(p.name for p in (models / "plots").glob("*.png"))
    assert "confusion-stance-document-tfidf-lr-blind.png" in pngs and len(pngs) == 6
    assert {"leaderboard-stance-document.png", "leaderboard-tension-document.png"} <= set(pngs)
    assert "](plots/leaderboard-stance-document.png)" in (models / "LEADERBOARD.md").read_text()
    records = read(models / "leaderboard.jsonl")
    assert {(r["task"], r["model"]) for r in records} == {(t, m) for t in ("stance", "tension") for m in ("majority", "tfidf-lr-blind")}
    res = runner.invoke(app, ["leaderboard", *common])
    assert res.exit_code == 0 and "majority (floor)" in res.output
    res = runner.invoke(app, ["compare", "tfidf-lr-blind", "majority", "--task", "tension", *common])
    assert res.exit_code == 0 and "paired bootstrap" in res.output and "disagree" in res.output


def test_eval_of_a_missing_model_explains(labels: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["eval", "-m", "tfidf-cnb", "--labels", str(labels), "--models", str(tmp_path)])
    assert res.exit_code == 1 and "not trained" in res.output and "stance-bench train -m tfidf-cnb" in res.output


def test_user_mistakes_get_messages_not_tracebacks(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    common = ["--labels", str(lab), "--models", str(mod)]
    cases = [
        (["eval", "-m", "bert", *common], "unknown model 'bert'"),
        (["compare", "actor-prior", "tfidf-lr", "-t", "tension", *common], "does not do the tension task"),
        (["predict", "-m", "bert", "-t", "stance", "-i", str(tmp_path / "x.jsonl"), "-o", str(tmp_path / "o.jsonl"), *common], "unknown model"),
        (["predict", "-m", "tfidf-lr", "-t", "stance", "-i", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl"), *common], "no such input file"),
        (["validate", "--labels", str(tmp_path / "nowhere")], "no such file"),
        (["agreement", "--labels", str(tmp_path / "nowhere")], "no such file"),
    ]
    for args, message in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 1, (args, res.output)
        assert message in res.output, (args, res.output)
        assert res.exc_info is None or res.exc_info[0] is SystemExit, (args, res.exc_info)


def test_export_refuses_a_folder_with_other_files(labels: Path, tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("my project")
    res = runner.invoke(app, ["export", str(tmp_path), "--labels", str(labels)])
    assert res.exit_code == 1 and "not empty" in res.output
    assert (tmp_path / "README.md").read_text() == "my project"


def test_predict_command(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "Moscow warned it would respond to NATO's deployments.", "actor": "RUS", "ref": 7}) + "\n")
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["predict", "-m", "tfidf-lr", "-t", "stance", "-i", str(inp), "-o", str(out),
                              "--labels", str(lab), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    rec = read(out)[0]
    assert rec["ref"] == 7 and rec["prediction"] in rec["probabilities"]


def test_export_model_skops(trained: tuple[Path, Path], tmp_path: Path) -> None:
    from bench.models.sharing import load_skops

    lab, mod = trained
    out = tmp_path / "m.skops"
    res = runner.invoke(app, ["export-model", "actor-prior", "--task", "stance", "-o", str(out), "--models", str(mod)])
    assert res.exit_code == 0, res.output
    assert "bench.models.registry.ActorPrior" in res.output
    import pandas as pd
    import pytest
    import skops.io as sio

    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(out, trusted=[])
    est = load_skops(out, trusted=["bench.models.registry.ActorPrior"])
    assert est.predict(pd.DataFrame({"actor": ["RUS"]}))[0] in ("pro-cooperation", "cautious", "deterrence-seeking")


# --- #12 items 2 and 7: one line instead of a traceback, nothing changed on disk, messages the right way round


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` with its bytes (None for folders)."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def one_line(res, *texts: str) -> None:  # noqa: ANN001
    """Exit code 1, no traceback, and every text in the message."""
    assert res.exit_code == 1, res.output
    assert res.exc_info is None or res.exc_info[0] is SystemExit, res.exc_info
    assert "Traceback" not in res.output
    for text in texts:
        assert text in res.output, (text, res.output)


@pytest.fixture()
def read_only(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Make a folder read-only: chmod for a normal user; root writes anywhere, so for root the same
    PermissionError the kernel gives a normal user is raised by os.open and os.mkdir inside it."""
    made: list[Path] = []

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            folder.chmod(0o555)
            made.append(folder)
            return folder
        real_open, real_mkdir = os.open, os.mkdir

        def inside(path) -> bool:  # noqa: ANN001
            p = Path(os.fsdecode(path)).absolute()
            return p == folder or folder in p.parents

        def fake_open(path, flags, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
            return real_open(path, flags, *args, **kwargs)

        def fake_mkdir(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if inside(path) and Path(os.fsdecode(path)).absolute() != folder:
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
            return real_mkdir(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "mkdir", fake_mkdir)
        return folder

    yield make
    for folder in made:
        folder.chmod(0o755)


def test_invalid_utf8_in_a_labels_file_or_predict_input_is_named(trained: tuple[Path, Path], labels: Path, tmp_path: Path) -> None:
    user = labels / "user.jsonl"
    good = json.dumps({"id": "u-1", "text": "NATO met.", "doc": "d", "tension": "low", "stances": [], "source": "s", "license": "l"})
    user.write_bytes(good.encode() + b"\n" + b'{"id": "u-2", "text": "caf\xe9"}\n')
    before = snapshot(labels)
    for args in (["validate"], ["stats"], ["add", "Russia warned.", "--tension", "low", "--doc", "d", "--source", "s", "--license", "l"]):
        one_line(runner.invoke(app, [*args, "--labels", str(labels)]), f"{user}:2: ", "UTF-8")
    assert snapshot(labels) == before
    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(json.dumps({"text": "NATO met."}).encode() + b"\n" + b'{"text": "caf\xe9"}\n')
    res = runner.invoke(app, ["predict", "-m", "majority", "-t", "tension", "-i", str(inp), "-o", str(tmp_path / "o" / "out.jsonl"),
                              "--labels", str(lab), "--models", str(mod)])
    one_line(res, f"{inp}:2: ", "UTF-8")
    assert not (tmp_path / "o").exists()


def test_read_only_output_folders_get_one_line_and_nothing_changes(trained: tuple[Path, Path], tmp_path: Path, read_only) -> None:  # noqa: ANN001
    lab, mod = trained
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "NATO met Russia.", "actor": "RUS"}) + "\n")
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "keep.txt").write_text("mine")
    before = tree(tmp_path)
    read_only(ro)
    common = ["--labels", str(lab), "--models", str(mod)]
    cases = [(["predict", "-m", "majority", "-t", "stance", "-i", str(inp), "-o", str(ro / "out.jsonl"), *common], ro),
             (["predict", "-m", "majority", "-t", "stance", "-i", str(inp), "-o", str(ro / "new" / "out.jsonl"), *common], ro / "new"),
             (["export", str(ro / "hf"), "--labels", str(lab)], ro / "hf"),
             (["export-model", "majority", "-t", "stance", "-o", str(ro / "m.skops"), "--models", str(mod)], ro)]
    for args, named in cases:
        res = runner.invoke(app, args)
        one_line(res, str(named), "cannot write")
        assert ".tmp" not in res.output
    assert tree(tmp_path) == before


def test_predict_wrong_way_messages(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, mod = trained
    common = ["--labels", str(lab), "--models", str(mod)]
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "NATO met Russia.", "actor": "RUS"}) + "\n")
    (tmp_path / "dir").mkdir()
    before = tree(tmp_path)
    res = runner.invoke(app, ["predict", "-m", "majority", "-t", "stance", "-i", str(inp), "-o", str(tmp_path / "dir"), *common])
    one_line(res, f"{tmp_path / 'dir'}: is a folder")
    assert ".tmp" not in res.output
    res = runner.invoke(app, ["predict", "-m", "majority", "-t", "stance", "-i", str(tmp_path / "dir"), "-o", str(tmp_path / "o.jsonl"), *common])
    one_line(res, f"{tmp_path / 'dir'}: is a folder")
    assert "no such" not in res.output
    inp.write_text('{"text": "NATO met Russia.", "actor": "RUS\n')
    res = runner.invoke(app, ["predict", "-m", "majority", "-t", "stance", "-i", str(inp), "-o", str(tmp_path / "a" / "b" / "o.jsonl"), *common])
    one_line(res, f"{inp}:1: record: invalid JSON")
    assert "at at" not in res.output
    inp.write_text(json.dumps({"text": "NATO met Russia.", "actor": "RUS"}) + "\n")
    assert tree(tmp_path) == before  # no folder a/ left behind


def test_leaderboard_help_says_all_splits() -> None:
    res = runner.invoke(app, ["leaderboard", "--help"])
    assert res.exit_code == 0 and "default all three" in res.output and "default document" not in res.output


def test_broken_manifest_is_one_line(trained: tuple[Path, Path], tmp_path: Path) -> None:
    lab, trained_models = trained
    mod = tmp_path / "models"
    shutil.copytree(trained_models, mod)
    manifest = mod / "document" / "stance" / "majority.json"
    common = ["--labels", str(lab), "--models", str(mod)]
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "NATO met Russia.", "actor": "RUS"}) + "\n")
    for content, problem in (('{"sha256": "ab', "invalid JSON"), ('{"sha256": "ab"}', "is missing"), ("[1]", "must be a JSON object")):
        manifest.write_text(content)
        before = tree(tmp_path)
        for args in (["eval", "-m", "majority", "-t", "stance", *common],
                     ["predict", "-m", "majority", "-t", "stance", "-i", str(inp), "-o", str(tmp_path / "out.jsonl"), *common],
                     ["export-model", "majority", "-t", "stance", "--models", str(mod)]):
            one_line(runner.invoke(app, args), f"{manifest}: ", problem, "stance-bench train")
        assert tree(tmp_path) == before


def test_bad_actor_registry_names_file_line_and_actor(labels: Path) -> None:
    registry = labels / "actors.toml"
    text = registry.read_text()
    cases = [(text + '\n[ZZZ\nname = "Zed"\n', f"{registry}:{text.count(chr(10)) + 2}: "),
             (text + '\n[ZZZ]\nkind = "state"\n', "ZZZ.name: is missing"),
             (text + '\n[ZZZ]\nname = "Zed"\nkind = "planet"\n', "ZZZ.kind: 'planet' is not one of state, organisation, group"),
             ('ZZZ = 3\n' + text, f"{registry}:1: ZZZ: must be a table")]
    for content, message in cases:
        registry.write_text(content)
        before = snapshot(labels)
        for args in (["validate"], ["stats"], ["add", "Russia warned.", "--tension", "low", "--doc", "d", "--source", "s", "--license", "l"]):
            one_line(runner.invoke(app, [*args, "--labels", str(labels)]), str(registry), message)
        assert snapshot(labels) == before


def test_add_says_it_waits_for_a_held_lock_then_gives_up_in_one_line(labels: Path) -> None:
    import fcntl

    lock = labels / ".labels.lock"
    before = snapshot(labels)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        res = runner.invoke(app, ["add", "Russia warned NATO.", "--tension", "low", "--doc", "d", "--source", "s",
                                  "--license", "l", "--lock-timeout", "0.1", "--labels", str(labels)])
    one_line(res, f"waiting for the lock {lock}", "gave up", str(lock))
    assert res.output.index("waiting") < res.output.index("gave up")
    assert snapshot(labels) == before


def test_fix_hints_keep_the_users_folders(labels: Path, tmp_path: Path) -> None:
    models = tmp_path / "my models"
    common = ["--labels", str(labels), "--models", str(models)]
    res = runner.invoke(app, ["eval", "-m", "majority", "-t", "tension", *common])
    one_line(res, "stance-bench train", f"--models '{models}'", f"--labels {labels}")
    assert runner.invoke(app, ["train", "-m", "majority", "-t", "tension", *common]).exit_code == 0
    runner.invoke(app, ["add", "Russia warned NATO.", "--tension", "low", "--doc", "d", "--source", "s", "--license", "l",
                        "--labels", str(labels)])
    res = runner.invoke(app, ["eval", "-m", "majority", "-t", "tension", *common])
    one_line(res, "trained on data", "stance-bench train", f"--models '{models}'", f"--labels {labels}")


def test_after_add_the_leaderboard_shows_the_stale_tables_with_their_fingerprint(labels: Path, tmp_path: Path) -> None:
    from bench.data.store import fingerprint

    common = ["--labels", str(labels), "--models", str(tmp_path / "models")]
    for cmd in (["train", "-m", "majority", "-t", "tension", *common], ["eval", "-m", "majority", "-t", "tension", "--no-plots", *common]):
        assert runner.invoke(app, cmd).exit_code == 0
    old = fingerprint(labels)
    res = runner.invoke(app, ["add", "Russia warned NATO.", "--tension", "low", "--doc", "d", "--source", "s", "--license", "l",
                              "--labels", str(labels)])
    assert res.exit_code == 0 and f"now {fingerprint(labels)}" in res.output and "stale until" in res.output
    assert f"stance-bench eval --labels {labels}" in res.output
    res = runner.invoke(app, ["leaderboard", *common])
    assert res.exit_code == 0, res.output
    assert f"STALE · tension · document split · data {old}" in res.output and "majority (floor)" in res.output
    assert "1 stale record(s)" in res.output and f"stance-bench eval --labels {labels} --models" in res.output
