from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bench.data.markdown import escape


def test_markup_and_html_are_shown_not_rendered() -> None:
    assert escape("a|b") == r"a\|b"
    assert escape("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert escape("[click](javascript:x) *bold* `code` ~~s~~") == r"\[click\](javascript:x) \*bold\* \`code\` \~\~s\~\~"
    assert escape("two\nlines") == "two lines"
    assert escape("tfidf-lr") == "tfidf-lr"


@given(st.text())
def test_escaped_text_cannot_end_a_cell_open_a_tag_or_break_a_line(text: str) -> None:
    out = escape(text)
    assert "<" not in out and ">" not in out and "\n" not in out and "\r" not in out
    assert not re.search(r"(?<!\\)(\\\\)*\|", out)  # every pipe is escaped
