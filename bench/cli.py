"""The `stance-bench` command line: parses arguments, calls the library, prints.

Heavy libraries (scikit-learn, datasets, matplotlib) are imported inside the commands, so that
`stance-bench --help` answers at once.
"""
from __future__ import annotations

import functools
import json
import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="stance-bench: stance and tension in alliance-security text. Train, evaluate, compare, label.")


class Task(str, Enum):
    stance = "stance"
    tension = "tension"
    actors = "actors"


class Split(str, Enum):
    document = "document"
    temporal = "temporal"
    cross_source = "cross-source"


class Backend(str, Enum):
    loky = "loky"
    dask = "dask"


LabelsOpt = Annotated[Optional[Path], typer.Option("--labels", help="labels folder (default: ./labels of the checkout, or $STANCE_BENCH_LABELS)")]
ModelsOpt = Annotated[Optional[Path], typer.Option("--models", help="models folder (default: ./models, or $STANCE_BENCH_MODELS)")]
TasksOpt = Annotated[Optional[list[Task]], typer.Option("--task", "-t", help="task(s); default all three")]
SplitsOpt = Annotated[Optional[list[Split]], typer.Option("--split", "-s", help="split(s); default document")]
ModelNamesOpt = Annotated[Optional[list[str]], typer.Option("--model", "-m", help="model name(s); default all registered")]
PluginsOpt = Annotated[Optional[list[str]], typer.Option(
    "--plugin", help="import MODULE (a local module path, e.g. my_models) so the models it registers can be used; "
                     "repeatable. Installed packages register through the stance_bench.models entry point instead")]


def _console():
    from .report import console

    return console()


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _user_errors(fn):  # noqa: ANN001, ANN202
    """Turn the library's errors about the user's input into a message and exit code 1, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return fn(*args, **kwargs)
        except typer.Exit:  # the commands' own exits: nothing to translate
            raise
        except Exception as exc:  # the error classes are imported only now: some modules are heavy (predict: numpy)
            _user_error(exc, kwargs)
            raise

    return wrapper


def _user_error(exc: Exception, kwargs: dict) -> None:
    """Exit with the message of an error about the user's input; return for any other error."""
    from .models.artifacts import ModelError
    from .scoring.cards import CardError
    from .data.hf import ExportError
    from .annotation.labelling import ArgumentError
    from .scoring.leaderboard import LeaderboardError
    from .data.outputs import OutputError
    from .models.predict import InputError
    from .data.schema import RegistryError
    from .models.cluster import SchedulerError
    from .data.store import LabelError
    from .scoring.submission import SubmissionError

    if isinstance(exc, (SubmissionError, CardError)):
        _fail(f"{exc}\nnothing was recorded")
    if isinstance(exc, ModelError):
        _fail(exc.with_folders(labels=kwargs.get("labels"), models=kwargs.get("models")))
    if isinstance(exc, (LabelError, InputError, ArgumentError, ExportError, LeaderboardError, OutputError, RegistryError,
                        SchedulerError)):
        _fail(str(exc))
    if isinstance(exc, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        _fail(f"{exc.strerror.lower()}: {exc.filename}" if exc.filename else str(exc))


def _tasks(tasks: Optional[list[Task]]) -> list[str]:
    from .data.schema import TASKS

    return [t.value for t in tasks] if tasks else list(TASKS)


def _splits(splits: Optional[list[Split]]) -> list[str]:
    return [s.value for s in splits] if splits else ["document"]


@app.command()
@_user_errors
def validate(labels: LabelsOpt = None) -> None:
    """Check every dataset in labels/: schema, labels, actors, mentions, unique ids and sentences."""
    from .data.store import check_store, labels_dir

    records, problems = check_store(labels)
    if problems:
        for p in problems:
            typer.echo(p, err=True)
        _fail(f"{len(problems)} problem(s) in {labels_dir(labels)}")
    n_st = sum(len(r["stances"]) for r in records)
    typer.echo(f"OK: {len(records)} sentences, {n_st} stances, {len({r.dataset for r in records})} datasets in {labels_dir(labels)}")


@app.command()
@_user_errors
def stats(labels: LabelsOpt = None, split: Annotated[Split, typer.Option(help="split to count train/test by")] = Split.document,
          top: Annotated[int, typer.Option(help="how many actors to list")] = 25) -> None:
    """Counts by dataset, label, actor, source, decade and split."""
    from rich.table import Table

    from .data.stats import summary

    s = summary(labels, split.value)
    con = _console()
    con.print(f"{s['sentences']} labelled sentences, {s['stances']} stance entries, "
              f"{s['documents']} documents; data fingerprint {s['fingerprint']}; "
              f"{s['skipped']} pool sentences skipped as off-topic, {s['unlabelled']} still unlabelled")
    for title, key in (("dataset", "by_dataset"), ("decade", "by_decade")):
        t = Table(title=f"by {title}")
        for c in (title, "sentences", "stances", "train", "test"):
            t.add_column(c, justify="right" if c != title else "left")
        for k, v in s[key].items():
            t.add_row(str(k), str(v["sentences"]), str(v["stances"]), str(v["train"]), str(v["test"]))
        con.print(t)
    for task in ("tension", "stance"):
        t = Table(title=f"{task} labels by {split.value} split")
        for c in ("label", "train", "test", "all"):
            t.add_column(c, justify="right" if c != "label" else "left")
        for lab, v in s["labels"][task].items():
            t.add_row(lab, str(v["train"]), str(v["test"]), str(v["train"] + v["test"]))
        con.print(t)
    t = Table(title=f"top {top} actors (of {len(s['actors'])})")
    for c in ("actor", "name", "bloc", "pro-cooperation", "cautious", "deterrence-seeking", "all"):
        t.add_column(c)
    for a, v in list(s["actors"].items())[:top]:
        t.add_row(a, v["name"], v["bloc"], *(str(v[k]) for k in ("pro-cooperation", "cautious", "deterrence-seeking", "all")))
    con.print(t)
    for title, column, key in (("sources (provenance)", "source", "by_source"),
                               ("selected for labelling by", "selected by", "by_selection")):
        t = Table(title=title)
        t.add_column(column)
        t.add_column("sentences", justify="right")
        for k, v in s[key].items():
            t.add_row(k, str(v))
        con.print(t)


@app.command()
@_user_errors
def add(text: Annotated[str, typer.Argument(help="the sentence, verbatim")],
        tension: Annotated[str, typer.Option(help="low | medium | high")],
        doc: Annotated[str, typer.Option(help="document id (splits go by document)")],
        source: Annotated[str, typer.Option(help="where the sentence was read")],
        license: Annotated[str, typer.Option("--license", help="licence of the text")],
        actor: Annotated[Optional[list[str]], typer.Option("--actor", "-a", help="ACTOR=STANCE, repeatable, e.g. RUS=cautious")] = None,
        mention: Annotated[Optional[list[str]], typer.Option(help="ACTOR=substring naming the actor in the text, repeatable")] = None,
        dataset: Annotated[str, typer.Option(help="dataset to add to (labels/NAME.jsonl)")] = "user",
        id: Annotated[Optional[str], typer.Option("--id", help="record id (default: derived from the text)")] = None,
        date: Annotated[Optional[str], typer.Option(help="ISO date or year")] = None,
        speaker: Annotated[Optional[str], typer.Option()] = None,
        url: Annotated[Optional[str], typer.Option()] = None,
        lock_timeout: Annotated[Optional[float], typer.Option(help="seconds to wait while another process writes the labels (default 30, or $STANCE_BENCH_LOCK_TIMEOUT)")] = None,
        labels: LabelsOpt = None) -> None:
    """Add one labelled sentence; the whole store is re-validated and nothing is written on error."""
    from .annotation.labelling import ArgumentError, add_sentence
    from .report import rerun_hint
    from .data.store import LabelError, fingerprint

    def waiting(lock: Path) -> None:
        typer.echo(f"waiting for the lock {lock}: another stance-bench process is writing the labels", err=True)

    try:
        rec, path = add_sentence(text, tension=tension, doc=doc, source=source, license=license, actors=actor or [],
                                 mentions=mention or [], dataset=dataset, id=id, date=date, speaker=speaker, url=url,
                                 labels=labels, lock_timeout=lock_timeout, on_wait=waiting)
    except (ArgumentError, LabelError) as exc:
        _fail(f"not added, nothing written:\n{exc}")
    typer.echo(f"added {rec['id']} to {path} ({len(rec['stances'])} stance(s), tension {rec['tension']})")
    typer.echo(f"the data fingerprint is now {fingerprint(labels)}: leaderboard results are stale until {rerun_hint(labels)}")


@app.command()
@_user_errors
def train(model: ModelNamesOpt = None, task: TasksOpt = None, split: SplitsOpt = None,
          seed: Annotated[int, typer.Option(help="seed for folds and models")] = 0,
          force: Annotated[bool, typer.Option(help="retrain even if a current model exists")] = False,
          backend: Annotated[Backend, typer.Option(help="joblib backend for the searches")] = Backend.loky,
          scheduler: Annotated[Optional[str], typer.Option(help="dask scheduler address, tcp://HOST:PORT")] = None,
          workers: Annotated[Optional[int], typer.Option(help="start a local dask cluster of N workers")] = None,
          connect_timeout: Annotated[float, typer.Option(help="seconds to wait for the dask scheduler")] = 10.0,
          jobs: Annotated[int, typer.Option(help="parallel CV fits with the local backend (-1: all cores)")] = -1,
          labels: LabelsOpt = None, models: ModelsOpt = None, plugin: PluginsOpt = None) -> None:
    """Train registered models (grouped CV search on the training split) and save them with manifests."""
    from rich.markup import escape
    from rich.progress import Progress
    from rich.table import Table

    from .models import registry
    from .models.plugins import load_modules
    from .models.training import parallel
    from .models.training import train as train_one

    load_modules(plugin)
    names = model or registry.names()
    todo, missing = [], []
    for n in names:
        spec = registry.get(n)
        if not registry.available(n):
            missing.append(n)
            continue
        todo += [(n, t, s) for s in _splits(split) for t in _tasks(task) if t in spec.tasks]
    # one split and task at a time, so that models with the same features share them (bench.models.search cache)
    order = {(s, t): i for i, (s, t) in enumerate((s, t) for s in _splits(split) for t in _tasks(task))}
    todo.sort(key=lambda job: order[(job[2], job[1])])
    for n in missing:
        typer.echo(f"skipping {n}: it needs the optional extra '{registry.get(n).extra}' "
                   f"(pip install -e '.[{registry.get(n).extra}]', or make setup-embed)", err=True)
    results = []
    con = _console()
    with parallel(backend.value, scheduler, workers, jobs, connect_timeout) as n_jobs, Progress(console=con, transient=True) as prog:
        bar = prog.add_task("training", total=len(todo))
        for n, t, s in todo:
            prog.update(bar, description=escape(f"{n} · {t} · {s}"))
            results.append(train_one(n, t, s, seed, labels, models, n_jobs=n_jobs, force=force))
            prog.advance(bar)
    tab = Table(title="trained models")
    for c in ("model", "task", "split", "CV macro-F1", "chosen parameters", "fit s", ""):
        tab.add_column(c)
    for r in results:
        tab.add_row(r.model, r.task, r.split, "–" if r.cv_macro_f1 is None else f"{r.cv_macro_f1:.3f}",
                    json.dumps(r.params) if r.params else "–", f"{r.fit_seconds:.1f}", "up to date" if r.skipped else "trained")
    con.print(tab)


@app.command("eval")
@_user_errors
def evaluate(model: ModelNamesOpt = None, task: TasksOpt = None, split: SplitsOpt = None,
             plots: Annotated[bool, typer.Option(help="write confusion-matrix PNGs under models/plots/")] = True,
             details: Annotated[bool, typer.Option(help="full report per model (metrics, per class, confusion, per actor and source); --no-details prints one line each")] = True,
             labels: LabelsOpt = None, models: ModelsOpt = None, plugin: PluginsOpt = None) -> None:
    """Evaluate trained models on the test side; print the report, update the leaderboard and plots."""
    from .models import registry
    from .models.plugins import load_modules

    load_modules(plugin)
    from .report import print_evaluation

    for n in model or []:
        spec = registry.get(n)
        if not registry.available(n):
            typer.echo(f"skipping {n}: it needs the optional extra '{spec.extra}' (make setup-embed)", err=True)
        for t in _tasks(task):
            if t not in spec.tasks:
                typer.echo(f"note: {n} does not do the {t} task", err=True)
    names = [n for n in (model or registry.names()) if registry.available(n)]
    if not any(t in registry.get(n).tasks for n in names for t in _tasks(task)):
        _fail("nothing to evaluate: no available model does the requested task(s)")
    print_evaluation(names, _tasks(task), _splits(split), labels, models, plots, _console(), details)


@app.command()
@_user_errors
def predict(model: Annotated[str, typer.Option("--model", "-m")], task: Annotated[Task, typer.Option("--task", "-t")],
            input: Annotated[Path, typer.Option("--input", "-i", help="JSONL with text (and actor for stance)")],
            output: Annotated[Path, typer.Option("--output", "-o")],
            split: Annotated[Split, typer.Option(help="the split the model was trained on")] = Split.document,
            workers: Annotated[Optional[int], typer.Option(help="processes that score batches (default: one per core, at most 2, for inputs over 16 MB; else 1)")] = None,
            labels: LabelsOpt = None, models: ModelsOpt = None, plugin: PluginsOpt = None) -> None:
    """Label a JSONL file with a trained model (streams: a large file needs little memory; over 16 MB on both cores)."""
    from rich.console import Console
    from rich.progress import Progress

    from .models.plugins import load_modules
    from .models.predict import count_lines, predict_file

    load_modules(plugin)
    total = count_lines(input) if input.is_file() else None
    with Progress(console=Console(stderr=True), transient=True, disable=not total or total <= 5000) as prog:
        bar = prog.add_task("predicting", total=total)
        n = predict_file(model, task.value, input, output, split.value, models, labels, workers=workers,
                         progress=lambda done: prog.update(bar, completed=done))
    typer.echo(f"wrote {n} prediction{'s' if n != 1 else ''} to {output}")


@app.command()
@_user_errors
def annotate(input: Annotated[Path, typer.Argument(help="JSONL or CSV with a text column (and optional context: id, doc, date, speaker, speaker_country, title, source), or a plain-text document (any other suffix), split into sentences")],
             output: Annotated[Path, typer.Option("--output", "-o", help="JSONL to write: one line per sentence")],
             stance_model: Annotated[Optional[str], typer.Option(help="stance model (default: the leaderboard's leader, else tfidf-lr)")] = None,
             tension_model: Annotated[Optional[str], typer.Option(help="tension model (default: the leader, else tfidf-lr)")] = None,
             actors_model: Annotated[Optional[str], typer.Option(help="actors model (default: the leader, else actor-filter)")] = None,
             split: Annotated[Split, typer.Option(help="the split the models were trained on")] = Split.document,
             labels: LabelsOpt = None, models: ModelsOpt = None) -> None:
    """Find the actors taking a stance in raw text, each one's stance and the tension, with probabilities."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from .analysis.annotate import annotate as run

    with Progress(SpinnerColumn(), TextColumn("annotated {task.completed} sentences"), console=_console(), transient=True) as prog:
        bar = prog.add_task("annotate", total=None)
        res = run(input, output, stance_model, tension_model, actors_model, split.value, labels, models,
                  progress=lambda n: prog.update(bar, completed=n))
    m = res["models"]
    typer.echo(f"wrote {res['sentences']} sentence(s) with {res['actors']} actor stance(s) to {output} "
               f"(actors: {m['actors']}, stance: {m['stance']}, tension: {m['tension']})")


@app.command()
@_user_errors
def export(out: Annotated[Path, typer.Argument(help="folder to write parquet files and the dataset card to (new, empty, or an earlier export)")],
           split: Annotated[Split, typer.Option()] = Split.document, labels: LabelsOpt = None) -> None:
    """Write the data as a Hugging Face dataset (parquet + README card) that datasets.load_dataset(DIR) reads."""
    from .data.hf import export as do_export

    path = do_export(out, split.value, labels)
    typer.echo(f"wrote {path} (configs: stance, tension, actors)")


@app.command("export-model")
@_user_errors
def export_model(name: Annotated[str, typer.Argument(help="model name")], task: Annotated[Task, typer.Option("--task", "-t")],
                 split: Annotated[Split, typer.Option()] = Split.document,
                 format: Annotated[str, typer.Option("--format", help="skops")] = "skops",
                 output: Annotated[Optional[Path], typer.Option("--output", "-o")] = None, models: ModelsOpt = None) -> None:
    """Write a trained model as a skops file for sharing (loadable with an explicit list of trusted types)."""
    from .models.sharing import export_skops

    if format != "skops":
        _fail(f"unknown format {format!r}: only skops is supported")
    path, trusted = export_skops(name, task.value, split.value, output, models)
    typer.echo(f"wrote {path}\ntrusted types needed to load it: {', '.join(trusted) if trusted else 'none beyond skops defaults'}")


@app.command("test-inputs")
@_user_errors
def test_inputs(task: Annotated[Task, typer.Option("--task", "-t")],
                output: Annotated[Path, typer.Option("--output", "-o", help="JSONL file to write")],
                split: Annotated[Split, typer.Option()] = Split.document, labels: LabelsOpt = None) -> None:
    """Write a split's test inputs without labels (ids as in the Hugging Face export), for models run elsewhere."""
    from .scoring.submission import test_inputs as write_inputs

    lines = write_inputs(task.value, split.value, labels, output)
    typer.echo(f"wrote {len(lines)} {task.value} test inputs of the {split.value} split to {output}; answer each line "
               f"with {{\"id\": ..., \"prediction\": LABEL}} and run: stance-bench score FILE --task {task.value} "
               f"--split {split.value} --name NAME")


@app.command()
@_user_errors
def score(predictions: Annotated[Path, typer.Argument(help="JSONL: one {\"id\", \"prediction\"[, \"probabilities\"]} per test input")],
          task: Annotated[Task, typer.Option("--task", "-t")],
          name: Annotated[str, typer.Option(help="leaderboard name of the model (not a registered model's name)")],
          split: Annotated[Split, typer.Option()] = Split.document,
          card: Annotated[Optional[Path], typer.Option(help="model card, .toml or .json (name, reference, description, parameters, trained_on, revision, license)")] = None,
          plots: Annotated[bool, typer.Option(help="write the confusion-matrix and leaderboard PNGs")] = True,
          labels: LabelsOpt = None, models: ModelsOpt = None) -> None:
    """Score predictions made outside the project and put them on the leaderboard (all checked first)."""
    from .report import print_score
    from .scoring.submission import score_predictions

    rec = score_predictions(predictions, task.value, split.value, name, card, labels, models, record=True, plots=plots)
    print_score(rec, models, plots, _console())


@app.command()
@_user_errors
def leaderboard(task: TasksOpt = None,
                split: Annotated[Optional[list[Split]], typer.Option("--split", "-s", help="split(s); default all three")] = None,
                drop_stale: Annotated[bool, typer.Option("--drop-stale", help="first remove the rows made on other data (human rows too), saying which")] = False,
                models: ModelsOpt = None, labels: LabelsOpt = None) -> None:
    """Print the leaderboard (rendered from models/leaderboard.jsonl)."""
    from .report import print_dropped_stale, print_leaderboard

    if drop_stale:
        print_dropped_stale(labels, models, _console())
    print_leaderboard(_tasks(task), [s.value for s in split] if split else None, labels, models, _console())


@app.command()
@_user_errors
def compare(a: Annotated[str, typer.Argument(help="first model")], b: Annotated[str, typer.Argument(help="second model")],
            task: Annotated[Task, typer.Option("--task", "-t")], split: Annotated[Split, typer.Option()] = Split.document,
            show: Annotated[int, typer.Option(help="how many disagreements to list")] = 15,
            labels: LabelsOpt = None, models: ModelsOpt = None, plugin: PluginsOpt = None) -> None:
    """Paired test of two models on the same test records, per-class differences, and where they disagree."""
    from .models.plugins import load_modules
    from .report import print_comparison

    load_modules(plugin)

    print_comparison(a, b, task.value, split.value, show, labels, models, _console())


@app.command()
@_user_errors
def agreement(labels: LabelsOpt = None, models: ModelsOpt = None,
              record: Annotated[bool, typer.Option(help="write the human-ceiling rows to the leaderboard")] = True) -> None:
    """Inter-annotator agreement from labels/agreement/ (kappa, alpha, actor-set F1, confusions)."""
    from .report import print_agreement

    print_agreement(labels, models, record, _console())


class Order(str, Enum):
    pool = "pool"
    uncertain = "uncertain"
    random = "random"


def _render(screen, con) -> None:  # noqa: ANN001
    """Draw a labeller screen; text from the data goes in as rich Text, never as markup."""
    from rich.text import Text

    if con.is_terminal:
        con.clear()
    con.print(Text(screen.header, style="bold"))
    if screen.status:
        con.print(Text(screen.status, style="dim"))
    for name, value in screen.context:
        con.print(Text.assemble((f"{name}: ", "dim"), value))
    if screen.before:
        con.print(Text.assemble(("before: ", "dim"), (screen.before, "dim")))
    if screen.text:
        sentence = Text(screen.text, style="bold")
        for start, end, _actor in screen.spans:
            sentence.stylize("reverse cyan", start, end)
        con.print(Text("» ") + sentence)
    if screen.after:
        con.print(Text.assemble(("after: ", "dim"), (screen.after, "dim")))
    for line in [*screen.answer, *screen.options]:
        con.print(Text("  " + line))
    if screen.message:
        con.print(Text(screen.message, style="yellow"))
    if screen.prompt:
        con.print(Text(screen.prompt, style="green"))


_KEY = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1bO.|.", re.S)
"""One key in what a terminal read returns: a CSI or SS3 escape sequence, or one character."""


def _keys():  # noqa: ANN202
    """Keys as typed: a terminal stays in cbreak mode for the whole session (so keys typed while a
    screen is drawn are kept, not flushed as per-key raw mode would); a pipe gives one character at a time."""
    import contextlib
    import os
    import sys

    @contextlib.contextmanager
    def reader():  # noqa: ANN202
        if not sys.stdin.isatty():
            yield lambda: sys.stdin.read(1)
            return
        try:
            import termios
            import tty
        except ImportError:  # Windows: click's single-key reader
            yield typer.getchar
            return
        fd = sys.stdin.fileno()
        old = termios.tcgetattr(fd)
        tty.setcbreak(fd, termios.TCSANOW)
        try:
            yield lambda: os.read(fd, 64).decode("utf-8", "replace")
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)

    return reader()


def _key_loop(session, con) -> None:  # noqa: ANN001
    """Read single keys into a session until it is done; end of input, Ctrl-C or Ctrl-D quits."""
    screen = session.start()
    with _keys() as read_key:
        while True:
            _render(screen, con)
            if screen.done:
                return
            try:
                key = read_key()
            except (KeyboardInterrupt, EOFError):
                key = ""
            # keys typed fast or pasted arrive together: one at a time, an escape sequence (arrow key) as one
            for k in _KEY.findall(key) or [""]:
                screen = session.quit() if k in ("", "\x03", "\x04") else session.key(k)
                if screen.done:
                    break


@app.command()
@_user_errors
def label(dataset: Annotated[str, typer.Option(help="dataset the answers go to (labels/NAME.jsonl)")] = "user",
          order: Annotated[Order, typer.Option(help="pool: file order; uncertain: smallest model margin first (with ~10% random); random: seeded shuffle")] = Order.pool,
          annotator: Annotated[Optional[str], typer.Option(help="your name, kept in every record")] = None,
          agreement: Annotated[bool, typer.Option("--agreement", help="second annotation of a sample of labelled sentences into labels/agreement/ (blind to the first labels)")] = False,
          sample: Annotated[int, typer.Option(help="with --agreement: sentences to draw (stratified by source) when no sample is pending")] = 50,
          seed: Annotated[int, typer.Option(help="seed of the random order, the random mix and the agreement sample")] = 0,
          refit_every: Annotated[int, typer.Option(help="with --order uncertain: refit the model every N answers (in the background)")] = 20,
          model: Annotated[str, typer.Option(help="with --order uncertain: the model whose margin ranks the pool")] = "tfidf-lr",
          labels: LabelsOpt = None, models: ModelsOpt = None) -> None:
    """Label pool sentences with single keys (? lists them); every answer is saved at once; quit and run again to resume."""
    con = _console()
    if agreement:
        from .annotation.adjudication import second_session

        session = second_session(labels, annotator, sample, seed)
    else:
        from .annotation.labeller import dataset_session

        session = dataset_session(labels, dataset, annotator, order.value, seed, models, refit_every, model, wait=False)
    _key_loop(session, con)


@app.command()
@_user_errors
def adjudicate(dataset: Annotated[str, typer.Option(help="dataset for a sentence the first annotator skipped and gold labels")] = "user",
               labels: LabelsOpt = None) -> None:
    """Walk the disagreements of labels/agreement/ side by side: 1 first, 2 second, e edit; writes gold and the log."""
    from .annotation.adjudication import AdjudicationSession

    _key_loop(AdjudicationSession(labels, dataset), _console())


@app.command("import")
@_user_errors
def import_(file: Annotated[Path, typer.Argument(help="labelled sentences: JSONL records, or CSV with text, tension, stances, mentions, doc, source, license")],
            dataset: Annotated[str, typer.Option(help="dataset to add to (labels/NAME.jsonl)")],
            dry_run: Annotated[bool, typer.Option("--dry-run", help="check and show what would be added; write nothing")] = False,
            show: Annotated[int, typer.Option(help="how many of the records to list")] = 20,
            labels: LabelsOpt = None) -> None:
    """Import many labelled sentences at once: every row is checked first, and all are added or none.

    CSV cells: stances as RUS=cautious;USA=pro-cooperation, mentions as RUS=Moscow;USA=Washington;
    optional columns id, date, speaker, speaker_country, title, url, note. A sentence already in the
    store or twice in the file is refused, naming both places.
    """
    from rich.table import Table

    from .data.importing import import_records
    from .data.store import LabelError

    try:
        res = import_records(file, dataset, labels, dry_run)
    except LabelError as exc:
        _fail(f"{exc}\nnot imported, nothing written ({len(exc.problems)} problem(s))")
    con = _console()
    tab = Table(title=f"{'would add' if dry_run else 'added'} {len(res.records)} record(s) to {str(res.path)}")
    for c in ("id", "tension", "stances", "text"):
        tab.add_column(c)
    for r in res.records[:show]:
        tab.add_row(r["id"], r["tension"], ", ".join(f"{s['actor']}={s['stance']}" for s in r["stances"]),
                    r["text"][:100] + ("…" if len(r["text"]) > 100 else ""))
    if len(res.records) > show:
        tab.caption = f"… and {len(res.records) - show} more"
    con.print(tab)
    if dry_run:
        con.print("dry run: nothing written", soft_wrap=True)


pool_app = typer.Typer(add_completion=False, invoke_without_command=True, rich_markup_mode=None,
                       help="The pool of unlabelled sentences (labels/pool/): counts, and `pool add FILE`.")
app.add_typer(pool_app, name="pool")


@pool_app.callback()
@_user_errors
def pool(ctx: typer.Context, labels: LabelsOpt = None,
         top: Annotated[int, typer.Option(help="how many documents to list")] = 10) -> None:
    """Counts of the pool: unlabelled sentences by source and document, skipped, labelled."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from .data.pool import pool_counts

    c = pool_counts(labels)
    con = _console()
    con.print(f"pool {c['path']}: {c['unlabelled']} unlabelled, {c['skipped']} skipped, "
              f"{c['pool_labelled']} labelled from the pool; {c['labelled']} labelled sentences in the store", soft_wrap=True)
    for title, key, limit in (("source", "by_source", None), ("document", "by_doc", top)):
        if not c[key]:
            continue
        t = Table(title=f"unlabelled by {title}" + (f" (top {limit} of {len(c[key])})" if limit and len(c[key]) > limit else ""))
        t.add_column(title)
        t.add_column("sentences", justify="right")
        for k, v in list(c[key].items())[:limit]:
            t.add_row(str(k), str(v))
        con.print(t)


@pool_app.command("add")
@_user_errors
def pool_add(file: Annotated[Path, typer.Argument(help="JSONL or CSV of sentences (text, doc, source, license, ...), or a plain-text .txt document")],
             doc: Annotated[Optional[str], typer.Option(help="document id (default for .txt: the file name without suffix)")] = None,
             source: Annotated[Optional[str], typer.Option(help="where the text was read (required for .txt; default for rows without one)")] = None,
             license: Annotated[Optional[str], typer.Option("--license", help="licence of the text (required for .txt)")] = None,
             date: Annotated[Optional[str], typer.Option(help="ISO date or year, for rows without one")] = None,
             speaker: Annotated[Optional[str], typer.Option()] = None,
             speaker_country: Annotated[Optional[str], typer.Option(help="ISO 3166-1 alpha-3 of the speaker's state")] = None,
             title: Annotated[Optional[str], typer.Option()] = None,
             url: Annotated[Optional[str], typer.Option()] = None,
             dry_run: Annotated[bool, typer.Option("--dry-run", help="check and count; write nothing")] = False,
             labels: LabelsOpt = None) -> None:
    """Add unlabelled sentences to the pool; .txt documents are split into sentences (pySBD), in order.

    Sentences already labelled, skipped or in the pool (same text up to case and white space) are
    dropped and counted. Any bad row refuses the whole file and names FILE:LINE.
    """

    from .data.pool import add_to_pool

    res = add_to_pool(file, labels, doc=doc, source=source, license=license, dry_run=dry_run, date=date,
                      speaker=speaker, speaker_country=speaker_country, title=title, url=url)
    dups = ", ".join(f"{v} {k}" for k, v in sorted(res.duplicates.items()))
    con = _console()
    con.print(f"{'would add' if dry_run else 'added'} {len(res.added)} sentence(s) to {str(res.path)}; "
              f"dropped {res.dropped} duplicate(s)" + (f" ({dups})" if dups else ""), soft_wrap=True)
    docs = {}
    for r in res.added:
        docs[r["doc_id"]] = docs.get(r["doc_id"], 0) + 1
    for d, k in list(docs.items())[:10]:
        con.print(f"  {d}: {k}")


class Period(str, Enum):
    decade = "decade"
    year = "year"


@app.command()
@_user_errors
def postures(predictions: Annotated[Optional[Path], typer.Option("--predictions", "-p", help="`stance-bench annotate` output (default: the gold labels)")] = None,
             by: Annotated[Period, typer.Option("--by", help="period: decade (1990s) or year")] = Period.decade,
             actor: Annotated[Optional[list[str]], typer.Option("--actor", "-a", help="actor id(s) to keep, repeatable (default: all; the top ones in the table and figures)")] = None,
             out: Annotated[Optional[Path], typer.Option("--out", "-o", help="folder for postures.csv, tension.csv and the PNGs")] = None,
             min_n: Annotated[int, typer.Option("--min-n", help="stances a cell needs to be estimated; below, it shows as too few")] = 10,
             model: Annotated[Optional[str], typer.Option("--model", "-m", help="trained stance model: draw gold vs predicted postures on the test side")] = None,
             split: Annotated[Split, typer.Option(help="split whose test side the gold-vs-predicted figure uses")] = Split.document,
             top: Annotated[int, typer.Option(help="how many actors (by stances) the table and heatmap show")] = 15,
             labels: LabelsOpt = None, models: ModelsOpt = None) -> None:
    """Postures over time: per actor and period, n, stance shares and the posture index with a 95% interval.

    Posture index = share deterrence-seeking minus share pro-cooperation (-1..1); the interval resamples
    documents. Also the tension index per period and source. With --out: CSVs and PNGs (heatmap, lines
    for the main actors, tension by source, and gold vs predicted with --predictions or --model).
    """
    from rich.table import Table

    from .analysis.postures import postures as run

    res = run(predictions, by.value, actor, out, min_n, labels, models, model, split.value, top)
    con = _console()
    cells = {(r["actor"], r["period"]): r for r in res.postures}
    periods = [p for p in res.periods if any((a, p) in cells for a in res.actors)]
    t = Table(title=f"posture index by {by.value} ({res.basis}): index [95% interval] n; "
                    f"cells with n < {min_n} are too few to estimate")
    t.add_column("actor")
    for p in periods:
        t.add_column(p, justify="right")
    for a in res.actors:
        t.add_row(a, *("" if (a, p) not in cells else f"n={cells[a, p]['n']} too few" if cells[a, p]["index"] is None
                               else f"{cells[a, p]['index']:+.2f} [{cells[a, p]['ci_low']:+.2f},{cells[a, p]['ci_high']:+.2f}] n={cells[a, p]['n']}"
                               for p in periods))
    con.print(t)
    t = Table(title=f"tension index by source and {by.value} (low 0, medium 0.5, high 1): mean [95% interval] n")
    t.add_column("source")
    tp = [p for p in res.periods if any(r["period"] == p for r in res.tension)]
    for p in tp:
        t.add_column(p, justify="right")
    tcells = {(r["source"], r["period"]): r for r in res.tension}
    for src in dict.fromkeys(r["source"] for r in res.tension):
        t.add_row(src, *("" if (src, p) not in tcells else f"n={tcells[src, p]['n']} too few" if tcells[src, p]["index"] is None
                                 else f"{tcells[src, p]['index']:.2f} [{tcells[src, p]['ci_low']:.2f},{tcells[src, p]['ci_high']:.2f}] n={tcells[src, p]['n']}"
                                 for p in tp))
    con.print(t)
    con.print(f"{res.sentences} sentences, {res.undated} undated (left out)")
    for f in res.files:
        con.print(f"wrote {str(f)}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
