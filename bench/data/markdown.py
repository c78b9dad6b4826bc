"""Text from data or records inside Markdown (LEADERBOARD.md, the dataset card): shown, never read as markup."""
from __future__ import annotations

import html
import re

_PUNCT = re.compile(r"([\\`*_\[\]|~])")


def escape(value: object) -> str:
    """`value` as literal Markdown text on one line, safe inside a table cell.

    HTML is turned into entities (no tag or comment can start), Markdown punctuation gets a
    backslash (no emphasis, link, image, code, strike-through or table
    pipe), and line breaks become spaces.
    """
    text = " ".join(str(value).split())
    return _PUNCT.sub(r"\\\1", html.escape(text, quote=False))
