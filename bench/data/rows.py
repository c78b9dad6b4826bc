"""Reading a user's JSONL or CSV file as numbered rows, so every message can say `FILE:LINE`.

Import, the pool and annotation all take "JSONL or CSV"; one reader keeps their line numbers and
their handling of encodings and empty cells the same.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

from .store import LabelError


def file_kind(path: Path) -> str:
    """`jsonl`, `csv` or `txt`, from the file name."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".txt", ".text", ".md"):
        return "txt"
    raise LabelError([f"{path}: file: cannot tell the format from {suffix or 'no suffix'!r}; use .jsonl, .csv or .txt"])


def iter_jsonl(path: Path) -> list[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line; any unreadable line raises LabelError naming all of them.

    Reads through bench/data/jsonl.py, so size limits, invalid UTF-8 and a BOM get the store's messages.
    """
    from . import jsonl

    rows, problems = [], []
    for n, obj, bad in jsonl.read(path):
        if bad:
            problems.append(f"{path}:{n}: {bad}")
        else:
            rows.append((n, obj))
    if problems:
        raise LabelError(problems)
    return rows


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The file's text; a file that is not UTF-8 is a one-line LabelError naming the line."""
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LabelError([f"{path}:{line}: file: not UTF-8 text (byte {data[exc.start]:#04x}); save it as UTF-8"]) from None


def iter_csv(path: Path, known: set[str], required: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number where the row starts, non-empty cells) for each data row of a CSV with a header.

    Empty cells are left out, so an optional column may be blank. Unknown or missing columns are
    refused at line 1. Cells may span lines (quoted); the number is where the row begins.
    """
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    import io

    with io.StringIO(read_text(path, "utf-8-sig"), newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        except csv.Error as exc:
            raise LabelError([f"{path}:1: header: {exc}"]) from None
        problems = [f"{path}:1: {h or '(empty)'}: is not a known column (known: {', '.join(sorted(known))})"
                    for h in header if h not in known]
        problems += [f"{path}:1: {h}: column is missing" for h in sorted(required - set(header))]
        problems += [f"{path}:1: {h}: column appears twice" for h in sorted({h for h in header if header.count(h) > 1})]
        if problems:
            raise LabelError(problems)
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise LabelError([f"{path}:{start}: row: {exc}"]) from None
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise LabelError([f"{path}:{start}: row: has {len(cells)} cells, the header has {len(header)}"])
            yield start, {h: c.strip() for h, c in zip(header, cells) if c.strip()}
