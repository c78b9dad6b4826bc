"""Reading JSONL safely: one line at a time, with a size limit checked before any parsing.

Every reader of a file a user hands us (label files, `predict` inputs, the leaderboard) goes
through here, so that a 10 MB line, invalid UTF-8 or a byte-order mark gets one clear
`FILE:LINE: record: ...` message instead of a traceback or gigabytes of memory.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator, NamedTuple

from .schema import MAX_LINE_BYTES

_CHUNK = 1 << 16
_BLANK = " \t\r\n"
"""JSON's white space: a line of nothing else is blank; any other character makes it a record."""


class Line(NamedTuple):
    """A non-blank line: its 1-based number and text, or why it cannot be read (then text is None)."""

    number: int
    text: str | None
    problem: str | None


def _too_long(limit: int) -> str:
    return f"record: the line is longer than {limit:,} bytes, the limit for one record"


def _line(n: int, text: str) -> Line | None:
    if n == 1 and text.startswith("\ufeff"):
        return Line(n, None, "record: the file starts with a byte-order mark (BOM): save it as UTF-8 without BOM")
    return Line(n, text, None) if text.strip(_BLANK) else None


def iter_lines(fh: BinaryIO, max_bytes: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """Non-blank lines of a binary stream, split on b'\\n' only (JSON text may hold U+2028).

    A line longer than `max_bytes` is skipped unread (never held in memory) and reported.
    """
    n = 0
    while raw := fh.readline(max_bytes + 1):
        n += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while (rest := fh.readline(_CHUNK)) and not rest.endswith(b"\n"):
                pass
            yield Line(n, None, _too_long(max_bytes))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Line(n, None, f"record: invalid UTF-8 (byte {exc.start + 1} of the line): save the file as UTF-8")
            continue
        if (line := _line(n, text)) is not None:
            yield line


def text_lines(text: str, max_bytes: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """The same as `iter_lines` for text already in memory (a write not yet on disk)."""
    for n, part in enumerate(text.split("\n"), 1):
        if len(part.encode("utf-8", "surrogatepass")) > max_bytes:
            yield Line(n, None, _too_long(max_bytes))
        elif (line := _line(n, part)) is not None:
            yield line


def parse(line: Line) -> tuple[Any, str | None]:
    """The JSON value of a line, or (None, `record: ...` problem)."""
    if line.problem is not None:
        return None, line.problem
    try:
        return json.loads(line.text), None
    except json.JSONDecodeError as exc:
        return None, f"record: invalid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"
    except RecursionError:
        return None, "record: invalid JSON (nested too deeply)"


_SURROGATE = re.compile("[\ud800-\udfff]")


def surrogate_field(obj: Any, where: str = "record") -> str | None:
    """The first field (dotted path) of a parsed JSON value holding a lone surrogate, which JSON
    escapes such as "\\ud800" can produce but UTF-8 cannot encode; None if there is none."""
    if isinstance(obj, str):
        return where if _SURROGATE.search(obj) else None
    if isinstance(obj, dict):
        for k, v in obj.items():
            name = f"{where}.{ascii(k)[1:-1]}" if where != "record" else ascii(k)[1:-1]
            if surrogate_field(k) or (name := surrogate_field(v, name)):
                return name
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            if name := surrogate_field(v, f"{where}[{i}]"):
                return name
    return None


def read(path: Path, max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, JSON value, problem) for every non-blank line of a file."""
    with open(path, "rb") as fh:
        for line in iter_lines(fh, max_bytes):
            yield (line.number, *parse(line))


def lines_of(source: Path | str, max_bytes: int = MAX_LINE_BYTES) -> Iterable[Line]:
    """Lines of a file (Path) or of pending text (str)."""
    if isinstance(source, str):
        return text_lines(source, max_bytes)
    with open(source, "rb") as fh:
        return list(iter_lines(fh, max_bytes))
