"""Where commands write their results (`predict -o`, `export DIR`, `export-model -o`).

The place is checked before any work, so a read-only folder or a folder given for a file is one
clear message naming the user's path (never a temporary file's), and a command that fails removes
the folders it created: a failed run leaves the disk as it found it.
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


class OutputError(ValueError):
    """An output path that cannot be written: read-only, a file where a folder is needed, or the reverse."""


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


@contextlib.contextmanager
def output_folder(folder: str | Path) -> Iterator[Path]:
    """Create `folder` and its missing parents and check that files can be written in it.

    Yields the folder; if the block raises, the folders created here are removed again (with what
    the block wrote into them).
    """
    folder = Path(folder)
    missing = [p for p in (folder, *folder.parents) if not p.exists() and not p.is_symlink()][::-1]
    for p in (folder, *folder.parents):
        if p.exists() and not p.is_dir():
            raise OutputError(f"{p}: is a file, not a folder: cannot write {folder}")
        if p.exists():
            break
    created: list[Path] = []
    try:
        try:
            for p in missing:
                p.mkdir()
                created.append(p)
            with tempfile.TemporaryFile(dir=folder):  # a file without a name where possible: nothing to clean up
                pass
        except OSError as exc:
            raise OutputError(f"{folder}: cannot write there ({_reason(exc)})") from None
        yield folder
    except BaseException:
        if created:
            shutil.rmtree(created[0], ignore_errors=True)
        raise


@contextlib.contextmanager
def output_file(path: str | Path, what: str = "the output") -> Iterator[Path]:
    """`output_folder` for the folder of a file about to be written; refuses a path that is a folder."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder: give a file name for {what}, e.g. {path / 'out.jsonl'}")
    with output_folder(path.parent) as _:
        yield path
