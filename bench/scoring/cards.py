"""Model cards for models scored from outside: what a leaderboard row's model is and what it saw.

A card is a small TOML or JSON file. It is validated strictly (unknown keys are refused, so that a
typo is not silently dropped) because it travels with the result record and is shown beside the
scores by `leaderboard`, `compare` and `LEADERBOARD.md`.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..data.splits import SPLITS

FIELDS: dict[str, str] = {
    "name": "the model's own name (the leaderboard row is named by `score --name`)",
    "reference": "http(s) URL of the paper, repository or model page",
    "description": "one or two sentences: what the model is",
    "parameters": "number of parameters (integer)",
    "trained_on": "a split's train side (document, temporal, cross-source), 'other: WHAT', or 'none' (zero-shot)",
    "revision": "revision, version or commit of the model",
    "license": "licence of the model or its weights",
}
REQUIRED = ("name", "trained_on")
MAX_TEXT = 2000
MAX_CARD_BYTES = 64_000


class CardError(ValueError):
    """A model card that is malformed, reported as FILE: field: problem lines."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def card_problems(card: Any) -> list[str]:
    """`field: problem` for everything wrong with a parsed card (empty when it is valid)."""
    if not isinstance(card, dict):
        return ["card: must be a table (TOML) or an object (JSON)"]
    out = [f"{k}: unknown key (allowed: {', '.join(FIELDS)})" for k in card if k not in FIELDS]
    out += [f"{k}: required" for k in REQUIRED if k not in card]
    for k in ("name", "reference", "description", "trained_on", "revision", "license"):
        v = card.get(k)
        if v is None and k not in card:
            continue
        if not isinstance(v, str) or not v.strip():
            out.append(f"{k}: must be a non-empty string")
        elif len(v) > MAX_TEXT:
            out.append(f"{k}: longer than {MAX_TEXT} characters")
        elif any(c in v for c in "\r\n\x00") and k != "description":
            out.append(f"{k}: must be a single line")
    ref = card.get("reference")
    if isinstance(ref, str) and ref.strip():
        u = urlparse(ref)
        if u.scheme not in ("http", "https") or not u.netloc or any(c.isspace() for c in ref):
            out.append(f"reference: {ref!r} is not an http(s) URL")
    if "parameters" in card:
        p = card["parameters"]
        if isinstance(p, bool) or not isinstance(p, int) or p <= 0:
            out.append(f"parameters: must be a positive integer, got {p!r}")
    t = card.get("trained_on")
    if isinstance(t, str) and t.strip() and trained_on_kind(t) is None:
        out.append(f"trained_on: {t!r} is not one of {', '.join(SPLITS)}, 'other: WHAT', 'none'")
    return out


def trained_on_kind(value: str) -> str | None:
    """'split', 'other' or 'none' for a valid `trained_on`, else None."""
    if value in SPLITS:
        return "split"
    if value == "none":
        return "none"
    if value.startswith("other:") and value[len("other:"):].strip():
        return "other"
    return None


def parse_card(text: str, fmt: str) -> Any:
    """Parse card text as `toml` or `json`; raises ValueError with the parser's message."""
    if fmt == "json":
        return json.loads(text)
    return tomllib.loads(text)


def load_card(path: str | Path) -> dict[str, Any]:
    """A validated card from a .toml or .json file; raises CardError naming the file and field."""
    path = Path(path)
    if not path.is_file():
        raise CardError([f"{path}: card: no such file"])
    raw = path.read_bytes()
    if len(raw) > MAX_CARD_BYTES:
        raise CardError([f"{path}: card: larger than {MAX_CARD_BYTES} bytes"])
    fmt = "json" if path.suffix.lower() == ".json" else "toml" if path.suffix.lower() == ".toml" else None
    if fmt is None:
        raise CardError([f"{path}: card: the file must end in .toml or .json"])
    try:
        card = parse_card(raw.decode("utf-8"), fmt)
    except UnicodeDecodeError:
        raise CardError([f"{path}: card: not valid UTF-8"]) from None
    except ValueError as exc:
        raise CardError([f"{path}: card: invalid {fmt.upper()} ({exc})"]) from None
    problems = card_problems(card)
    if problems:
        raise CardError([f"{path}: {p}" for p in problems])
    return card


def split_conflict(card: dict[str, Any] | None, split: str) -> str | None:
    """Why a card's training data contaminates the test side of `split` (None when it does not).

    The train side of one split overlaps the test side of another (the document split's train side
    holds most of the temporal test documents), so a model trained on one split's train side can
    only be scored on that split.
    """
    t = (card or {}).get("trained_on")
    if t in SPLITS and t != split:
        return (f"trained_on: the model was trained on the {t} split's train side, which overlaps the {split} split's "
                f"test side: score it on --split {t}, or train it on the {split} split's train side")
    return None


def summary(card: dict[str, Any] | None, shown: str | None = None) -> str:
    """One line for terminals and Markdown captions (plain text; callers escape it).

    `shown`: the row name the line follows. A card name equal to it heads the description; without a
    description it would only repeat the row name (`x: x; zero-shot`), so it is left out then.
    """
    if not card:
        return ""
    t = card.get("trained_on", "")
    trained = ("zero-shot (no training on stance-bench data)" if t == "none" else
               f"trained on the {t} split's train side" if t in SPLITS else t.replace("other:", "trained on:", 1))
    name, description = str(card.get("name") or ""), str(card.get("description") or "")
    repeat = shown is not None and name.strip() == shown and not description.strip()
    parts = ["" if repeat else name, description, trained]
    if card.get("parameters"):
        parts.append(f"{card['parameters']:,} parameters")
    for k in ("revision", "license", "reference"):
        if card.get(k):
            parts.append(f"{k} {card[k]}")
    return "; ".join(p.strip() for p in parts if p and p.strip())
