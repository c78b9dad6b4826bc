"""Splitting plain-text documents into sentences with pySBD (a maintained rule-based splitter).

Paragraphs (blank-line separated) are split separately, so a heading never runs into the next
sentence; white space inside a sentence is normalised, as in the bundled pool.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable, Iterator

_PARAGRAPH = re.compile(r"\n\s*\n")


@functools.lru_cache(maxsize=1)
def _segmenter():  # noqa: ANN202
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """The sentences of a document, in order, white space normalised, empty pieces dropped."""
    out: list[str] = []
    for para in _PARAGRAPH.split(text):
        para = " ".join(para.split())
        if not para:
            continue
        out += [s for s in (" ".join(piece.split()) for piece in _segmenter().segment(para)) if s]
    return out


def paragraphs(lines: Iterable[str]) -> Iterator[str]:
    """Paragraphs (blank-line separated) of a stream of lines, one at a time: a long document is
    never held whole (`annotate`)."""
    buf: list[str] = []
    for line in lines:
        if line.strip():
            buf.append(line)
        elif buf:
            yield "".join(buf)
            buf = []
    if buf:
        yield "".join(buf)


def split_stream(lines: Iterable[str]) -> Iterator[str]:
    """Sentences of a plain-text stream, paragraph by paragraph (the same as `split_sentences`)."""
    for para in paragraphs(lines):
        yield from split_sentences(para)
