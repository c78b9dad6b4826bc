"""Fuzzing: generated bad inputs to everything that reads a user's file or arguments.

Each bad input must be refused with one clear line `FILE:LINE: field: message` (exit code 1 from the
CLI), with no traceback, and must change nothing on disk (the folder is hashed before and after).
Encodings are covered: byte-order marks, CRLF line ends, invalid UTF-8, NUL and lone surrogates.
Targets: label records (`add`, library and command), raw label lines (`validate`), `predict` inputs
(library and command), leaderboard lines, model names on the command line, `import` rows (JSONL and
CSV) and prediction files for `score`. The last test checks that at least 1,000 bad inputs were tried.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from click.testing import CliRunner
from typer.main import get_command

from bench.scoring import leaderboard as lb
from bench.cli import app
from bench.models.predict import InputError, predict_file
from bench.data.schema import (MAX_FIELD_CHARS, MAX_LINE_BYTES, MAX_TEXT_CHARS, OPTIONAL_FIELDS, REQUIRED_FIELDS, STANCES,
                          TENSIONS, load_actors, valid_date)
from bench.data.store import LabelError, append_records, check_store

from .conftest import LABELS, REPO, small_labels

runner = CliRunner()
CLI = get_command(app)
"""The click command, built once: typer's runner rebuilds it on every call, most of a call's time."""
TRIED: Counter[str] = Counter()
"""Bad inputs tried per target in this run."""
TARGETS = ("add", "add-cli", "validate-cli", "predict", "predict-cli", "leaderboard", "leaderboard-cli", "model-cli",
           "import", "import-cli", "score", "score-cli")
POISON = ["\x00", "\ud800", "\udfff", "\udcff", "\x1b", "\x7f", "\x85", "\x0b", "\x1f"]
"""Characters no string field may hold: NUL, lone surrogates, control characters."""
BAD_UTF8 = [b"\xff", b"\xfe", b"\x80", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xc0\xaf"]
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class World:
    labels: Path
    models: Path
    work: Path


def small_registry(labels: Path) -> None:
    """Keep only the actors the small dataset uses (and a few more): the full registry takes most of
    the time of each validation."""
    used = {"NATO", "RUS", "USA", "EST", "UKR"}
    for p in labels.glob("*.jsonl"):
        used |= {s["actor"] for line in p.read_text().splitlines() for s in json.loads(line)["stances"]}
    parts = re.split(r"(?m)^(?=\[)", (labels / "actors.toml").read_text())
    keep = [p for p in parts[1:] if p[1:p.index("]")].strip("\"") in used]
    (labels / "actors.toml").write_text("".join(keep))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    from bench.models.training import train

    root = tmp_path_factory.mktemp("fuzz")
    labels = small_labels(root / "labels", docs_per_dataset=2)
    small_registry(labels)
    assert check_store(labels)[1] == []
    for task in ("stance", "tension"):
        train("majority", task, "document", 0, labels, root / "models")
    lb.path_jsonl(root / "models").write_text((REPO / "models" / "leaderboard.jsonl").read_text().split("\n", 2)[0] + "\n")
    (root / "work").mkdir()
    return World(labels, root / "models", root / "work")


def tree_hash(*folders: Path) -> str:
    """A hash of every file under the folders (lock files aside): equal hashes, nothing changed."""
    h = hashlib.sha256()
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.name.endswith(".lock"):
                h.update(str(p).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


PROBLEM = re.compile(r"^(?P<file>/.+?\.(?:jsonl|csv))(:(?P<line>\d+))?: (?P<field>[^:\s][^:]*): \S.*$")


def named(message: str, path: Path, line: int | None = None, field: str | None = None) -> bool:
    """Whether `message` is one printable line `PATH:LINE: field: ...` for this path (and line, field)."""
    m = PROBLEM.match(message)
    return bool(m and message.isprintable() and m["file"] == str(path) and m["line"] and (line is None or int(m["line"]) == line)
                and (field is None or m["field"].startswith(field)))


def all_named(problems: list[str], path: Path, line: int) -> bool:
    """Every problem is one line naming `path` (FILE:LINE: field: ...), and one names the bad line."""
    return all(named(p, path) for p in problems) and any(named(p, path, line) for p in problems)


@contextmanager
def input_file(path: Path, content: bytes) -> Iterator[Path]:
    """`path` holding `content` for the duration (then removed, so the next example starts clean)."""
    path.write_bytes(content)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def cli_failed(res, hash_before: str, hash_after: str) -> list[str]:  # noqa: ANN001
    """The output lines of a CLI run that must have failed cleanly."""
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    assert hash_before == hash_after
    return res.output.strip().splitlines()


def good_record(**change: object) -> dict:
    rec = {"id": "fuzz-1", "text": "Moscow warned NATO against enlargement.", "doc": "fuzz-doc", "tension": "medium",
           "stances": [{"actor": "RUS", "stance": "cautious", "mention": "Moscow"}], "source": "fuzz test",
           "date": "2007-02-10", "speaker": "a speaker", "url": "https://example.org/a", "license": "CC0-1.0"}
    rec.update(change)
    return rec


def poisoned(value: str) -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, len(value)), st.sampled_from(POISON)).map(lambda t: value[:t[0]] + t[1] + value[t[0]:])


ACTOR_IDS = set(load_actors(LABELS / "actors.toml"))
STRING_FIELDS = [f for f, t in {**REQUIRED_FIELDS, **OPTIONAL_FIELDS}.items() if t is str]
KNOWN = set(REQUIRED_FIELDS) | set(OPTIONAL_FIELDS)
wrong_type = st.one_of(st.integers(), st.none(), st.booleans(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=2),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@st.composite
def bad_change(draw: st.DrawFn) -> tuple[str, dict]:
    """(the field that must be named, the change that makes a good record bad)."""
    kind = draw(st.sampled_from(["poison", "type", "blank", "long", "id", "tension", "date", "url", "unknown",
                                 "stance", "actor", "mention", "stances", "missing"]))
    rec = good_record()
    if kind == "poison":
        f = draw(st.sampled_from([f for f in STRING_FIELDS if f in rec or f in ("title", "note")]))
        return f, {f: draw(poisoned(rec.get(f, "a title")))}
    if kind == "type":
        f = draw(st.sampled_from(sorted(KNOWN)))
        value = draw(wrong_type.filter(lambda v: not isinstance(v, (str, list) if f != "stances" else list)))
        return f, {f: value}
    if kind == "blank":
        f = draw(st.sampled_from(STRING_FIELDS))
        return f, {f: draw(st.text(alphabet=" \t\n\r", max_size=3))}
    if kind == "long":
        f = draw(st.sampled_from(STRING_FIELDS))
        if f in ("url", "date", "id", "tension"):
            f = "source"
        limit = MAX_TEXT_CHARS if f == "text" else MAX_FIELD_CHARS
        return f, {f: "Moscow NATO " + "y" * (limit - 11 + draw(st.integers(1, 500)))}
    if kind == "id":
        return "id", {"id": draw(st.one_of(
            st.text(max_size=6).map(lambda s: f"a{s}::{s}b"),
            st.tuples(st.text(alphabet="abc123", min_size=1, max_size=5), st.sampled_from(list(" /\\:\t\n#?é*\"'<>|")))
              .map(lambda t: t[0] + t[1] + t[0]),
            st.sampled_from(["-x", ".x", "_x", "a" * 129])))}
    if kind == "tension":
        return "tension", {"tension": draw(st.text(max_size=8).filter(lambda s: s not in TENSIONS and s.strip()))}
    if kind == "date":
        return "date", {"date": draw(st.text(max_size=12).filter(lambda s: s.strip() and not valid_date(s)))}
    if kind == "url":
        scheme = draw(st.sampled_from(["javascript:", "JavaScript:", "data:text/html,", "file://", "ftp://", "mailto:", "//", "", "http:", "https://"]))
        rest = draw(st.text(alphabet="abc/:.<> ", max_size=8))
        url = scheme + rest
        if scheme.lower() in ("http:", "https://") and not url.endswith(" "):
            url += " space"
        return "url", {"url": url}
    if kind == "unknown":
        name = draw(st.text(min_size=1, max_size=8).filter(lambda s: s not in KNOWN))
        return "", {name: draw(st.one_of(st.text(max_size=4), st.integers()))}
    if kind == "stance":
        return "stances[0].stance", {"stances": [{"actor": "RUS", "stance": draw(st.text(max_size=8).filter(lambda s: s not in STANCES))}]}
    if kind == "actor":
        actor = draw(st.one_of(st.text(max_size=8).filter(lambda s: s not in ACTOR_IDS), wrong_type))
        return "stances[0].actor", {"stances": [{"actor": actor, "stance": "cautious"}]}
    if kind == "mention":
        mention = draw(st.one_of(st.text(min_size=1, max_size=8).filter(lambda s: s not in rec["text"]), poisoned("Moscow"), wrong_type))
        return "stances[0].mention", {"stances": [{"actor": "RUS", "stance": "cautious", "mention": mention}]}
    if kind == "stances":
        value = draw(st.one_of(st.lists(wrong_type, min_size=1, max_size=2),
                               st.just([{"actor": "RUS", "stance": "cautious"}, {"actor": "RUS", "stance": "cautious"}])))
        return "stances", {"stances": value}
    f = draw(st.sampled_from(sorted(REQUIRED_FIELDS)))
    return f, {f: None, "__delete__": f}


def apply(change: dict) -> dict:
    rec = good_record(**{k: v for k, v in change.items() if k != "__delete__"})
    if "__delete__" in change:
        del rec[change["__delete__"]]
    return rec


@settings(max_examples=250)
@given(bad_change())
def test_fuzz_add_refuses_bad_records(world: World, case: tuple[str, dict]) -> None:
    field, change = case
    before = tree_hash(world.labels)
    with pytest.raises(LabelError) as err:
        append_records("fuzz", [apply(change)], world.labels)
    TRIED["add"] += 1
    problems = err.value.problems
    assert problems and all(named(p, world.labels / "fuzz.jsonl", 1) for p in problems), problems
    assert any(named(p, world.labels / "fuzz.jsonl", 1, field) for p in problems), (field, problems)
    assert tree_hash(world.labels) == before


cli_text = st.one_of(poisoned("Moscow warned NATO."), st.integers(1, 300).map(lambda k: "NATO " + "z" * (MAX_TEXT_CHARS + k)),
                     st.text(alphabet=" \t", max_size=3))


@st.composite
def bad_add_args(draw: st.DrawFn) -> list[str]:
    args = {"text": "Moscow warned NATO, round %d." % draw(st.integers(0, 10**6)), "--tension": "high", "--doc": "cli-doc",
            "--source": "cli", "--license": "CC0-1.0", "--dataset": "user"}
    extra: list[str] = ["--actor", "RUS=cautious"]
    kind = draw(st.sampled_from(["text", "tension", "dataset", "id", "date", "url", "actor", "mention", "source"]))
    if kind == "text":
        args["text"] = draw(cli_text)
    elif kind == "tension":
        args["--tension"] = draw(st.text(min_size=1, max_size=6).filter(lambda s: s not in TENSIONS))
    elif kind == "dataset":
        args["--dataset"] = draw(st.one_of(st.sampled_from(["evil\n", "con", "aux", "nul", "prn", "com1", "lpt9", "a_b", "A", "a.b", "../x", "a" * 65]),
                                           st.text(min_size=1, max_size=6).map(lambda s: "-" + s)))
    elif kind == "id":
        extra += ["--id", draw(st.text(max_size=5).map(lambda s: f"x{s}::RUS"))]
    elif kind == "date":
        extra += ["--date", draw(st.text(min_size=1, max_size=10).filter(lambda s: s.strip() and not valid_date(s)))]
    elif kind == "url":
        extra += ["--url", draw(st.sampled_from(["javascript:alert(1)", "data:text/html,<b>", "file:///etc/passwd", "ftp://x.org", "x.org"]))]
    elif kind == "actor":
        extra = ["--actor", draw(st.one_of(st.text(max_size=8).filter(lambda s: "=" not in s),
                                           st.sampled_from(["RUS=angry", "RUSSIA=cautious", "RUS=", "=cautious", "RUS\ud800=cautious"])))]
    elif kind == "mention":
        extra += ["--mention", draw(st.sampled_from(["RUS=Kremlin", "USA=Moscow", "RUS=Moscow\x00", "RUS", "RUS=\udcff"]))]
    else:
        args["--source"] = draw(poisoned("cli source"))
    flat = [args.pop("text")] + [f"{k}={v}" for k, v in args.items()]
    return flat + [f"{k}={v}" for k, v in zip(extra[::2], extra[1::2])]


@settings(max_examples=150)
@given(bad_add_args())
def test_fuzz_add_command_refuses_bad_arguments(world: World, args: list[str]) -> None:
    before = tree_hash(world.labels)
    res = runner.invoke(CLI, ["add", *args, "--labels", str(world.labels)])
    TRIED["add-cli"] += 1
    lines = cli_failed(res, before, tree_hash(world.labels))
    header = "not added, nothing written:"
    lines = [x.removeprefix(header).strip() for x in lines if x.strip() != header]
    assert lines and all(line.isprintable() for line in lines), res.output
    for line in lines:  # FILE:LINE: field: ..., a bad dataset name LABELS: dataset: ..., or the bad argument
        m = PROBLEM.match(line)
        assert (m and m["line"] and Path(m["file"]).parent == world.labels) or line.startswith(f"{world.labels}: dataset: ") \
            or line.startswith(("--actor ", "--mention ", "unknown actor ")), res.output


@st.composite
def bad_line(draw: st.DrawFn, good: bytes) -> bytes:
    """One line that cannot be a valid record: broken encoding, broken JSON, or not an object."""
    kind = draw(st.sampled_from(["utf8", "nul", "surrogate", "truncated", "binary", "not-object", "nested", "bom"]))
    at = draw(st.integers(1, len(good) - 1))
    if kind == "utf8":
        return good[:at] + draw(st.sampled_from(BAD_UTF8)) + good[at:]
    if kind == "nul":
        return good[:at] + b"\x00" + good[at:]
    if kind == "surrogate":  # a JSON escape in the first string value
        i = good.index(b'": "') + 4
        return good[:i] + draw(st.sampled_from([b"\\ud800", b"\\udfff", b"\\uDC80"])) + good[i:]
    if kind == "truncated":
        return good[:at]
    if kind == "binary":
        return draw(st.binary(min_size=1, max_size=40).filter(lambda b: b.strip() and b"\n" not in b))
    if kind == "nested":
        return b"[" * draw(st.integers(10_000, 60_000))
    if kind == "bom":
        return BOM + good
    return json.dumps(draw(st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3), st.none()))).encode()


@st.composite
def bad_file(draw: st.DrawFn, good_lines: list[bytes]) -> tuple[bytes, int]:
    """(file content, number of the bad line): good lines around one bad line, LF or CRLF ends."""
    before = draw(st.integers(0, len(good_lines)))
    bad = draw(bad_line(good_lines[0]))
    if bad.startswith(BOM):
        before = 0
    lines = good_lines[:before] + [bad] + good_lines[before:]
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    return end.join(lines) + draw(st.sampled_from([end, b""])), before + 1


RECORD_LINES = [json.dumps(good_record(id=f"fz-{i}", text=f"Moscow warned NATO, part {i}.")).encode() for i in range(3)]


@settings(max_examples=150)
@given(bad_file(RECORD_LINES))
def test_fuzz_validate_reports_unreadable_label_lines(world: World, case: tuple[bytes, int]) -> None:
    content, line = case
    path = world.labels / "fuzz.jsonl"
    path.write_bytes(content)
    try:
        before = tree_hash(world.labels)
        res = runner.invoke(CLI, ["validate", "--labels", str(world.labels)])
        TRIED["validate-cli"] += 1
        lines = cli_failed(res, before, tree_hash(world.labels))
        assert lines[-1].endswith(f"problem(s) in {world.labels}")
        assert all_named(lines[:-1], path, line), (line, res.output)
        with pytest.raises(LabelError):  # and every writer refuses while the store is broken
            append_records("user", [good_record(id="fz-writer", text="A sentence that is fine.")], world.labels)
        assert tree_hash(world.labels) == before
    finally:
        path.unlink()


PREDICT_LINES = [json.dumps({"text": f"Moscow warned NATO, part {i}.", "actor": "RUS", "mention": "Moscow"}).encode() for i in range(3)]


@st.composite
def bad_predict_file(draw: st.DrawFn) -> tuple[bytes, int]:
    kind = draw(st.sampled_from(["line", "line", "field", "long"]))
    if kind == "line":
        return draw(bad_file(PREDICT_LINES))
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    if kind == "long":
        bad = b'{"text": "' + b"w" * draw(st.integers(MAX_LINE_BYTES, MAX_LINE_BYTES + 5000)) + b'", "actor": "RUS"}'
    else:
        obj = {"text": "Moscow warned NATO.", "actor": "RUS"}
        change = draw(st.sampled_from(["text-type", "text-blank", "text-poison", "text-long", "actor-missing", "actor-unknown",
                                       "mention", "surrogate-elsewhere"]))
        if change == "text-type":
            obj["text"] = draw(wrong_type)
        elif change == "text-blank":
            obj["text"] = draw(st.text(alphabet=" \t", max_size=3))
        elif change == "text-poison":
            obj["text"] = draw(poisoned(obj["text"]))
        elif change == "text-long":
            obj["text"] = "NATO " + "v" * (MAX_TEXT_CHARS + draw(st.integers(0, 500)))
        elif change == "actor-missing":
            del obj["actor"]
        elif change == "actor-unknown":
            obj["actor"] = draw(st.one_of(st.text(max_size=6).filter(lambda s: s not in ACTOR_IDS), wrong_type))
        elif change == "mention":
            obj["mention"] = draw(st.one_of(st.text(min_size=1, max_size=6).filter(lambda s: s not in obj["text"]), wrong_type.filter(lambda v: v is not None)))
        else:
            obj[draw(st.sampled_from(["note", "id", "\ud800"]))] = draw(st.sampled_from(["\ud800", ["x", "\udfff"], {"k": "\udc80"}]))
        bad = json.dumps(obj).encode()
    before = draw(st.integers(0, len(PREDICT_LINES)))
    return end.join(PREDICT_LINES[:before] + [bad] + PREDICT_LINES[before:]) + end, before + 1


@settings(max_examples=200)
@given(bad_predict_file())
def test_fuzz_predict_refuses_bad_input_lines(world: World, case: tuple[bytes, int]) -> None:
    content, line = case
    inp, out = world.work / "in.jsonl", world.work / "out.jsonl"
    inp.write_bytes(content)
    before = tree_hash(world.work, world.models)
    with pytest.raises(InputError) as err:
        predict_file("majority", "stance", inp, out, labels=world.labels, models=world.models)
    TRIED["predict"] += 1
    assert named(str(err.value), inp, line), (line, str(err.value))
    assert tree_hash(world.work, world.models) == before and not out.exists()


@settings(max_examples=60)
@given(bad_predict_file(), st.sampled_from(["stance", "tension"]))
def test_fuzz_predict_command_refuses_bad_input_lines(world: World, case: tuple[bytes, int], task: str) -> None:
    content, line = case
    inp, out = world.work / "in.jsonl", world.work / "out.jsonl"
    inp.write_bytes(content)
    before = tree_hash(world.work, world.models)
    res = runner.invoke(CLI, ["predict", "-m", "majority", "-t", task, "-i", str(inp), "-o", str(out),
                              "--labels", str(world.labels), "--models", str(world.models)])
    if task == "tension" and res.exit_code == 0:  # a stance-only flaw (actor, mention) is no flaw for tension
        out.unlink()
        return
    TRIED["predict-cli"] += 1
    lines = cli_failed(res, before, tree_hash(world.work, world.models))
    assert len(lines) == 1 and named(lines[0], inp, line), (line, res.output)


LEADER_LINE = (REPO / "models" / "leaderboard.jsonl").read_bytes().split(b"\n", 1)[0]


@st.composite
def bad_leaderboard(draw: st.DrawFn) -> tuple[bytes, int]:
    if draw(st.booleans()):
        return draw(bad_file([LEADER_LINE]))
    rec = json.loads(LEADER_LINE)
    field = draw(st.sampled_from(sorted(lb.RECORD_FIELDS)))
    if draw(st.booleans()):
        del rec[field]
    else:
        rec[field] = draw(wrong_type.filter(lambda v: not isinstance(v, lb.RECORD_FIELDS[field]) or isinstance(v, bool)))
    return LEADER_LINE + b"\n" + json.dumps(rec).encode() + b"\n", 2


@settings(max_examples=100)
@given(bad_leaderboard())
def test_fuzz_leaderboard_refuses_unreadable_lines(world: World, case: tuple[bytes, int]) -> None:
    content, line = case
    path = lb.path_jsonl(world.work)
    path.write_bytes(content)
    before = tree_hash(world.work)
    for call in (lambda: lb.load(path), lambda: lb.update(world.work, [json.loads(LEADER_LINE)], "fp")):
        with pytest.raises(lb.LeaderboardError) as err:
            call()
        assert named(str(err.value).split("; nothing was written")[0], path, line), str(err.value)
    TRIED["leaderboard"] += 1
    assert tree_hash(world.work) == before
    path.unlink()


@settings(max_examples=30)
@given(bad_leaderboard())
def test_fuzz_leaderboard_command_refuses_unreadable_lines(world: World, case: tuple[bytes, int]) -> None:
    content, line = case
    folder = world.work / "lb-cli"
    folder.mkdir(exist_ok=True)
    lb.path_jsonl(folder).write_bytes(content)
    before = tree_hash(folder)
    res = runner.invoke(CLI, ["leaderboard", "--models", str(folder), "--labels", str(world.labels)])
    TRIED["leaderboard-cli"] += 1
    lines = cli_failed(res, before, tree_hash(folder))
    assert len(lines) == 1 and named(lines[0].split("; nothing was written")[0], lb.path_jsonl(folder), line), res.output


@settings(max_examples=50)
@given(st.text(max_size=12).filter(lambda s: s not in ACTOR_IDS and s.strip() not in ("majority", "tfidf-lr")),
       st.sampled_from(["predict", "export-model", "compare", "eval", "train"]))
def test_fuzz_unknown_model_names_are_one_line(world: World, name: str, command: str) -> None:
    from bench.models.registry import REGISTRY

    if name in REGISTRY:
        return
    out = world.work / "model-out"
    opts = ["--labels", str(world.labels), "--models", str(world.models)]
    args = {"predict": ["predict", *opts, "-t", "stance", "-i", str(world.work / "none.jsonl"), "-o", str(out / "o.jsonl"), f"--model={name}"],
            "export-model": ["export-model", "--models", str(world.models), "-t", "stance", "-o", str(out / "m.skops"), "--", name],
            "compare": ["compare", *opts, "-t", "stance", "--", name, "majority"],
            "eval": ["eval", *opts, "--no-plots", f"--model={name}"], "train": ["train", *opts, f"--model={name}"]}[command]
    before = tree_hash(world.labels, world.models, world.work)
    res = runner.invoke(CLI, args)
    TRIED["model-cli"] += 1
    lines = cli_failed(res, before, tree_hash(world.labels, world.models, world.work))
    assert len(lines) == 1 and lines[0].isprintable(), res.output
    assert lines[0].startswith("unknown model ") or " is neither a registered model " in lines[0], res.output
    assert not out.exists()


CSV_HEADER = b"text,tension,stances,mentions,doc,source,license"
CSV_GOOD = [f'"Imported row {i}: Moscow warned NATO.",medium,RUS=cautious,RUS=Moscow,imp-doc,fuzz,CC0-1.0'.encode() for i in range(2)]
JSONL_GOOD = [json.dumps({k: v for k, v in good_record(text=f"Imported sentence {i}: Moscow warned NATO.").items() if k != "id"}).encode()
              for i in range(2)]


def csv_row(**cells: str) -> bytes:
    row = {"text": "Moscow warned NATO, once more.", "tension": "high", "stances": "RUS=cautious", "mentions": "RUS=Moscow",
           "doc": "imp-doc", "source": "fuzz", "license": "CC0-1.0", **cells}
    return ",".join('"' + row[k].replace('"', '""') + '"' for k in CSV_HEADER.decode().split(",")).encode("utf-8", "surrogatepass")


@st.composite
def bad_import_file(draw: st.DrawFn) -> tuple[str, bytes, int]:
    """(suffix, file content, number of the bad line) for `import`: JSONL or CSV, LF or CRLF."""
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    before = draw(st.integers(0, 2))
    if draw(st.booleans()):
        if draw(st.booleans()):
            content, line = draw(bad_file(JSONL_GOOD))
            return ".jsonl", content, line
        _, change = draw(bad_change())
        assume(change.get("__delete__") != "id")  # import derives a missing id
        bad = json.dumps(apply(change)).encode()
        return ".jsonl", end.join(JSONL_GOOD[:before] + [bad] + JSONL_GOOD[before:]) + end, before + 1
    kind = draw(st.sampled_from(["stances", "mentions", "tension", "poison", "long", "utf8", "cells", "header"]))
    if kind == "header":
        header = draw(st.sampled_from([CSV_HEADER + b",colour", CSV_HEADER.replace(b"tension,", b""), CSV_HEADER + b",text"]))
        return ".csv", end.join([header, *CSV_GOOD]) + end, 1
    if kind == "stances":
        bad = csv_row(stances=draw(st.sampled_from(["RUS", "RUS=", "=cautious", "RUS=cautious;RUS=cautious", "RUS=angry",
                                                     "XXX=cautious", "RUS=cautious;;USA"])))
    elif kind == "mentions":
        bad = csv_row(mentions=draw(st.sampled_from(["USA=Moscow", "RUS=Kremlin", "RUS", "RUS=Mos\x00cow"])))
    elif kind == "tension":
        bad = csv_row(tension=draw(st.text(alphabet="abcxyz -", min_size=1, max_size=6).filter(lambda s: s.strip() not in TENSIONS and s.strip())))
    elif kind == "poison":
        field = draw(st.sampled_from(["text", "source", "doc", "license"]))
        value = "Moscow warned NATO, once more." if field == "text" else "value"
        at = draw(st.integers(1, len(value) - 1))  # inside: cells are stripped of (Unicode) white space at the ends
        bad = csv_row(**{field: value[:at] + draw(st.sampled_from(POISON)) + value[at:]})
    elif kind == "long":
        bad = csv_row(text="Moscow " + "u" * (MAX_TEXT_CHARS + draw(st.integers(0, 300))))
    elif kind == "utf8":
        good = csv_row()
        at = draw(st.integers(1, len(good) - 1))
        bad = good[:at] + draw(st.sampled_from(BAD_UTF8)) + good[at:]
    else:
        bad = csv_row() + b',"extra"' if draw(st.booleans()) else csv_row().rsplit(b",", 1)[0]
    return ".csv", end.join([CSV_HEADER, *CSV_GOOD[:before], bad, *CSV_GOOD[before:]]) + end, before + 2


@settings(max_examples=150)
@given(bad_import_file())
def test_fuzz_import_refuses_bad_rows(world: World, case: tuple[str, bytes, int]) -> None:
    from bench.data.importing import import_records

    suffix, content, line = case
    with input_file(world.work / f"rows{suffix}", content) as path:
        before = tree_hash(world.labels, world.work)
        with pytest.raises(LabelError) as err:
            import_records(path, "imported", world.labels)
        TRIED["import"] += 1
        assert all_named(err.value.problems, path, line), (line, err.value.problems)
        assert tree_hash(world.labels, world.work) == before


@settings(max_examples=30)
@given(bad_import_file())
def test_fuzz_import_command_refuses_bad_rows(world: World, case: tuple[str, bytes, int]) -> None:
    suffix, content, line = case
    with input_file(world.work / f"rows{suffix}", content) as path:
        before = tree_hash(world.labels, world.work)
        res = runner.invoke(CLI, ["import", str(path), "--dataset", "imported", "--labels", str(world.labels)])
        TRIED["import-cli"] += 1
        lines = cli_failed(res, before, tree_hash(world.labels, world.work))
        assert lines[-1].startswith("not imported, nothing written"), res.output
        assert all_named(lines[:-1], path, line), (line, res.output)


def prediction_line(i: str, label: str = "low", **extra: object) -> bytes:
    return json.dumps({"id": i, "prediction": label, **extra}).encode()


@st.composite
def bad_predictions(draw: st.DrawFn, ids: list[str]) -> tuple[bytes, int]:
    """(predictions file, number of the line to be named) for the tension task with test ids `ids`."""
    goods = [prediction_line(i) for i in ids]
    kind = draw(st.sampled_from(["line", "label", "probabilities", "duplicate", "unknown", "missing"]))
    if kind == "line":
        return draw(bad_file(goods))
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    if kind == "missing":
        drop = draw(st.integers(0, len(goods) - 1))
        kept = goods[:drop] + goods[drop + 1:]
        return end.join(kept) + end, len(kept) + 1
    at = draw(st.integers(0, len(goods) - 1))
    if kind == "label":
        bad = prediction_line(ids[at], draw(st.one_of(st.text(max_size=8).filter(lambda s: s not in TENSIONS), wrong_type)))
    elif kind == "probabilities":
        probs = draw(st.one_of(
            wrong_type.filter(lambda v: v is not None and not (isinstance(v, dict) and not v)),
            st.just({"low": 0.5, "medium": 0.5}), st.just({"low": 0.2, "medium": 0.2, "high": 0.2}),
            st.just({"low": 1.5, "medium": -0.25, "high": -0.25}), st.just({"low": True, "medium": 0, "high": 0}),
            st.just({"low": 1, "medium": 0, "high": 0, "extra": 0}),
            st.just({"low": "1", "medium": 0, "high": 0}), st.just({"low": float("nan"), "medium": 0, "high": 0})))
        bad = prediction_line(ids[at], **{"probabilities": probs})
    elif kind == "duplicate":
        return end.join(goods + [goods[at]]) + end, len(goods) + 1
    else:
        bad = prediction_line(draw(st.text(max_size=10).filter(lambda s: s not in ids and s)))
    lines = goods[:at] + [bad] + goods[at + 1:] + ([goods[at]] if kind == "unknown" else [])
    return end.join(lines) + end, at + 1


SCORE_IDS = ["t-1", "t-2::RUS", "t-3"]


@settings(max_examples=150)
@given(bad_predictions(SCORE_IDS))
def test_fuzz_score_refuses_bad_prediction_files(world: World, case: tuple[bytes, int]) -> None:
    from bench.scoring.submission import SubmissionError, read_predictions

    content, line = case
    path = world.work / "predictions.jsonl"
    path.write_bytes(content)
    before = tree_hash(world.work, world.models)
    with pytest.raises(SubmissionError) as err:
        read_predictions(path, "tension", SCORE_IDS)
    TRIED["score"] += 1
    problems = err.value.problems
    assert all_named(problems, path, line), (line, problems)
    assert tree_hash(world.work, world.models) == before
    path.unlink()


@settings(max_examples=30)
@given(st.data())
def test_fuzz_score_command_refuses_bad_prediction_files(world: World, data: st.DataObject) -> None:
    from bench.scoring.submission import test_inputs

    ids = [x["id"] for x in test_inputs("tension", "document", world.labels)]
    assert ids, "the small store needs a test side"
    content, line = data.draw(bad_predictions(ids))
    path = world.work / "predictions.jsonl"
    path.write_bytes(content)
    before = tree_hash(world.labels, world.work, world.models)
    res = runner.invoke(CLI, ["score", str(path), "-t", "tension", "--name", "fuzz-ext", "--no-plots",
                              "--labels", str(world.labels), "--models", str(world.models)])
    TRIED["score-cli"] += 1
    lines = cli_failed(res, before, tree_hash(world.labels, world.work, world.models))
    assert lines[-1] == "nothing was recorded", res.output
    lines = [x for x in lines[:-1] if not x.startswith("... and ")]
    assert all_named(lines, path, line), (line, res.output)
    path.unlink()


def test_at_least_a_thousand_bad_inputs_were_tried() -> None:
    if set(TRIED) != set(TARGETS):
        pytest.skip("only part of the fuzz suite ran")
    assert sum(TRIED.values()) >= 1000, TRIED
