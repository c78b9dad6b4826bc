"""Train/test splits. Every split assigns whole documents, so sentences of one speech never leak.

`document` (the default) hashes the document id, so adding sentences never moves a record;
`temporal` trains on documents up to a year and tests on later ones; `cross-source` trains on UN
speeches and tests on everything else.
"""
from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

from .schema import year_of
from .store import Record

SPLITS: tuple[str, ...] = ("document", "temporal", "cross-source")
TEST_FRACTION = 0.2
SALT = "stance-bench/document-split/v1"
TRAIN_SOURCES = ("un-debates",)


def doc_side(doc: str, test_fraction: float = TEST_FRACTION, salt: str = SALT) -> str:
    """`train` or `test` for one document id, from a hash: stable whatever else is added."""
    digest = hashlib.sha256(f"{salt}\0{doc}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_fraction else "train"


def temporal_cutoff(records: Sequence[Record], test_fraction: float = TEST_FRACTION) -> int:
    """The latest year Y such that documents after Y hold about `test_fraction` of dated records."""
    years = sorted(y for r in records if (y := year_of(r.get("date"))) is not None)
    if not years:
        raise ValueError("no dated records: the temporal split needs dates")
    target = len(years) * (1 - test_fraction)
    best, best_gap = years[-1], float("inf")
    for y in sorted(set(years)):
        n_train = sum(1 for v in years if v <= y)
        gap = abs(n_train - target)
        if gap < best_gap:
            best, best_gap = y, gap
    return best


def assign(records: Sequence[Record], split: str = "document") -> dict[str, str]:
    """Record id -> `train` | `test`; records a split cannot place (undated, for `temporal`) are left out."""
    if split == "document":
        return {r.id: doc_side(r["doc"]) for r in records}
    if split == "temporal":
        cut = temporal_cutoff(records)
        out = {}
        for r in records:
            y = year_of(r.get("date"))
            if y is not None:
                out[r.id] = "train" if y <= cut else "test"
        return out
    if split == "cross-source":
        return {r.id: "train" if r.dataset in TRAIN_SOURCES else "test" for r in records}
    raise ValueError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")


def describe(records: Sequence[Record], split: str) -> str:
    """A one-line description of how the split was made, stored in every result record."""
    if split == "document":
        return f"document: sha256({SALT!r}, doc) < {TEST_FRACTION} -> test"
    if split == "temporal":
        return f"temporal: train year <= {temporal_cutoff(records)}, test later"
    return f"cross-source: train {', '.join(TRAIN_SOURCES)}; test the rest"


def select(records: Iterable[Record], split: str, side: str) -> list[Record]:
    records = list(records)
    sides = assign(records, split)
    return [r for r in records if sides.get(r.id) == side]
