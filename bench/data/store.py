"""The validated label store: loading, checking and atomically writing `labels/NAME.jsonl`.

A write takes a lock, re-validates every dataset with the change applied, and replaces the file
atomically, so a rejected write leaves every file on disk exactly as it was.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import jsonl
from .schema import DATASET_NAME, Actor, check_record, dataset_name_problem, load_actors, normalise_text

ROOT = Path(__file__).resolve().parent.parent.parent


def labels_dir(path: str | Path | None = None) -> Path:
    """The labels folder: an explicit path, $STANCE_BENCH_LABELS, or `labels/` of the checkout."""
    return Path(path or os.environ.get("STANCE_BENCH_LABELS") or ROOT / "labels")


def models_dir(path: str | Path | None = None) -> Path:
    """The models folder: an explicit path, $STANCE_BENCH_MODELS, or `models/` of the checkout."""
    return Path(path or os.environ.get("STANCE_BENCH_MODELS") or ROOT / "models")


class LabelError(ValueError):
    """Raised with every problem found, each as `FILE:LINE: field: what is wrong`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Record:
    """One labelled sentence and where it was read from."""

    dataset: str
    line: int
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return self.data["id"]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def jsonl_lines(path: Path) -> list[str]:
    """Lines of a JSONL file, split on newlines only (JSON text may hold U+2028 and the like);
    LabelError naming FILE:LINE if one cannot be read."""
    return _read_lines(path)[0]


def check_dataset_name(dataset: str, root: Path) -> None:
    """Raise LabelError (`LABELS: dataset: ...`, one line) unless `dataset` can name `root/DATASET.jsonl`."""
    if bad := dataset_name_problem(dataset):
        raise LabelError([f"{root}: dataset: {bad}"])


def dataset_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*.jsonl") if DATASET_NAME.fullmatch(p.stem))


def _parse_file(path: Path, actors: dict[str, Actor], problems: list[str], text: str | None = None) -> list[Record]:
    records = []
    for line in jsonl.lines_of(path if text is None else text):
        n, (obj, bad) = line.number, jsonl.parse(line)
        if bad:
            problems.append(f"{path}:{n}: {bad}")
            continue
        errs = check_record(obj, actors)
        problems.extend(f"{path}:{n}: {fld}: {msg}" for fld, msg in errs)
        if not errs:
            records.append(Record(path.stem, n, obj))
    return records


def _cross_check(records: Iterable[Record], root: Path, problems: list[str]) -> None:
    ids: dict[str, Record] = {}
    texts: dict[str, Record] = {}
    for r in records:
        where = f"{root / (r.dataset + '.jsonl')}:{r.line}"
        if r.id in ids:
            first = ids[r.id]
            problems.append(f"{where}: id: {r.id!r} is already used at {first.dataset}.jsonl:{first.line}")
        else:
            ids[r.id] = r
        key = normalise_text(r["text"])
        if key in texts:
            first = texts[key]
            problems.append(f"{where}: text: the same sentence is already labelled at {first.dataset}.jsonl:{first.line} ({first.id})")
        else:
            texts[key] = r


def check_store(root: str | Path | None = None, pending: dict[str, str] | None = None) -> tuple[list[Record], list[str]]:
    """Parse and check every dataset; `pending` maps dataset name to proposed new file content."""
    root = labels_dir(root)
    actors = load_actors(root / "actors.toml")
    problems: list[str] = []
    records: list[Record] = []
    files = {p.stem: p for p in dataset_files(root)}
    for name in pending or {}:
        files.setdefault(name, root / f"{name}.jsonl")
    for name in sorted(files):
        records += _parse_file(files[name], actors, problems, (pending or {}).get(name))
    _cross_check(records, root, problems)
    return records, problems


def load_records(root: str | Path | None = None, datasets: Iterable[str] | None = None) -> list[Record]:
    """Every valid record of the store; raises LabelError listing all problems if any."""
    records, problems = check_store(root)
    if problems:
        raise LabelError(problems)
    if datasets is not None:
        wanted = set(datasets)
        records = [r for r in records if r.dataset in wanted]
    return records


def fingerprint(root: str | Path | None = None) -> str:
    """A short hash of the label files and actor registry: results on other data are not comparable."""
    root = labels_dir(root)
    h = hashlib.sha256()
    for p in [root / "actors.toml", *dataset_files(root)]:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk, so that a rename in it survives a power cut."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open folders (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that cannot sync folders
        pass
    finally:
        os.close(fd)


def _commit(tmp: Path, path: Path) -> None:
    """Rename the finished temporary file over `path` and make the rename durable.

    A separate function so that the crash-injection test can stop a writer exactly here.
    """
    os.replace(tmp, path)
    fsync_dir(path.parent)


def temp_files(path: Path) -> list[Path]:
    """Temporary files `atomic_write` leaves beside `path` when its process is killed."""
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def atomic_write(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over `path` (keeping its mode).

    The data is fsynced before the rename and the folder after it: after a crash or power cut the
    file holds either the old or the new content, never a mix.
    """
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        _commit(Path(tmp), path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temp_files(root: Path) -> list[Path]:
    """Delete the temporary files of writers that were killed; call only while holding the lock."""
    gone = []
    for tmp in sorted(root.glob(".*.jsonl.*.tmp")):
        if DATASET_NAME.fullmatch(tmp.name[1:].split(".jsonl.", 1)[0]):
            tmp.unlink(missing_ok=True)
            gone.append(tmp)
    return gone


def write_locked(path: Path, content: str) -> None:
    """`atomic_write` for a caller holding the labels lock: first removes what killed writers left."""
    remove_stale_temp_files(path.parent)
    atomic_write(path, content)


LOCK_TIMEOUT = 30.0
"""Seconds a writer waits for the labels lock ($STANCE_BENCH_LOCK_TIMEOUT overrides it)."""


class LockError(LabelError):
    """The labels lock stayed held by another process for the whole timeout."""


@contextlib.contextmanager
def _lock(root: Path, timeout: float | None = None, on_wait: Callable[[Path], None] | None = None) -> Iterator[None]:
    """Hold the labels lock. If another writer holds it, `on_wait(lock file)` is called at once and the
    wait is at most `timeout` seconds, then LockError; nothing has been written by then."""
    from filelock import FileLock, Timeout

    if timeout is None:
        timeout = float(os.environ.get("STANCE_BENCH_LOCK_TIMEOUT") or LOCK_TIMEOUT)
    path = root / ".labels.lock"
    lock = FileLock(str(path))
    try:
        lock.acquire(blocking=False)
    except Timeout:
        if on_wait is not None:
            on_wait(path)
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise LockError([f"{path}: lock: another stance-bench process held it for {timeout:g} s; gave up, nothing written "
                             "(try again when it has finished)"]) from None
    try:
        yield
    finally:
        lock.release()


def append_records(dataset: str, new: list[dict[str, Any]], root: str | Path | None = None,
                   lock_timeout: float | None = None, on_wait: Callable[[Path], None] | None = None) -> Path:
    """Append records to `labels/DATASET.jsonl` if, and only if, the whole store stays valid.

    `lock_timeout` and `on_wait` are those of the labels lock (another writer may hold it)."""
    root = labels_dir(root)
    check_dataset_name(dataset, root)
    path = root / f"{dataset}.jsonl"
    with _lock(root, lock_timeout, on_wait):
        try:
            old = path.read_text(encoding="utf-8") if path.exists() else ""
        except UnicodeDecodeError:
            raise LabelError(check_store(root)[1]) from None
        if old and not old.endswith("\n"):
            old += "\n"
        content = old + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in new)
        _, problems = check_store(root, pending={dataset: content})
        if problems:
            raise LabelError(problems)
        write_locked(path, content)
    return path


def _read_lines(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The non-blank lines of a file about to be rewritten (without their newline) and their JSON
    objects; LabelError naming FILE:LINE at the first line that cannot be read, so that nothing is
    rewritten without a line it could not understand."""
    lines: list[str] = []
    objs: list[dict[str, Any]] = []
    if not path.exists():
        return lines, objs
    for line in jsonl.lines_of(path):
        obj, bad = jsonl.parse(line)
        if bad is None and not isinstance(obj, dict):
            bad = "record: must be a JSON object"
        if bad:
            raise LabelError([f"{path}:{line.number}: {bad}"])
        lines.append(line.text[:-1] if line.text.endswith("\n") else line.text)
        objs.append(obj)
    return lines, objs


def _rewrite(dataset: str, change: Any, root: Path) -> Path:
    """Apply `change(ids of the lines) -> {line number: new record or None}` to one dataset, validate
    the store, replace atomically. Lines not changed keep their bytes."""
    path = root / f"{dataset}.jsonl"
    with _lock(root):
        lines, objs = _read_lines(path)
        edits = change([o.get("id") for o in objs])
        out = [line if n not in edits else None if edits[n] is None else json.dumps(edits[n], ensure_ascii=False)
               for n, line in enumerate(lines)]
        content = "".join(line + "\n" for line in out if line is not None)
        _, problems = check_store(root, pending={dataset: content})
        if problems:
            raise LabelError(problems)
        write_locked(path, content)
    return path


def _ids_missing(path: Path, wanted: Iterable[str], ids: list[str]) -> None:
    missing = set(wanted) - set(ids)
    if missing:
        raise LabelError([f"{path}: id: {', '.join(sorted(missing))} not in this dataset"])


def remove_records(dataset: str, ids: Iterable[str], root: str | Path | None = None) -> Path:
    """Take records out of a dataset again (the labeller's undo); every id must be there."""
    root, gone = labels_dir(root), set(ids)

    def change(have: list[str]) -> dict[int, Any]:
        _ids_missing(root / f"{dataset}.jsonl", gone, have)
        return {n: None for n, i in enumerate(have) if i in gone}

    return _rewrite(dataset, change, root)


def replace_records(dataset: str, new: Iterable[dict[str, Any]], root: str | Path | None = None) -> Path:
    """Replace records in place by id (adjudication writes the gold label this way); order is kept."""
    root, by_id = labels_dir(root), {r["id"]: r for r in new}

    def change(have: list[str]) -> dict[int, Any]:
        _ids_missing(root / f"{dataset}.jsonl", by_id, have)
        return {n: by_id[i] for n, i in enumerate(have) if i in by_id}

    return _rewrite(dataset, change, root)


def append_lines(path: Path, objs: Iterable[dict[str, Any]], lock_root: Path) -> None:
    """Append JSON lines to a side file (pool, agreement) under the labels lock, atomically."""
    with _lock(lock_root):
        old = "".join(line + "\n" for line in _read_lines(path)[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        write_locked(path, old + "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs))


def remove_lines(path: Path, ids: Iterable[str], lock_root: Path) -> int:
    """Drop the lines of a side file whose `id` is in `ids`, atomically; returns how many went."""
    gone = set(ids)
    with _lock(lock_root):
        lines, objs = _read_lines(path)
        keep = [line for line, obj in zip(lines, objs) if obj.get("id") not in gone]
        write_locked(path, "".join(line + "\n" for line in keep))
    return len(lines) - len(keep)
