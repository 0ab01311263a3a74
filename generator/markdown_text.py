"""Repository strings in GitHub markdown (the plan comment, job summaries): shown, never interpreted.

A string from values.yaml, a rendered file or a command line could otherwise open an HTML comment
that hides the rest from reviewers, add a link or a heading, or end a table cell.
"""

from __future__ import annotations

import re

_SIGNIFICANT = {c: f"&#{ord(c)};" for c in "&<\\`*_[]~|!"}
_BACKTICKS = re.compile("`+")


def escape(value: object, how: str = "text") -> str:
    """A repository's string, safe to put in the comment.

    - "text" (the default): for running text, table cells and HTML blocks. Control and other invisible
      characters are shown as Python escapes (`\\n`, `\\x1b`, `\\u202e`), so nothing starts a new line;
      `& < \\ ` * _ [ ] ~ | !` become character references, so nothing is a tag, comment, link, image, code
      span, emphasis or table column.
    - "code": the same string as code. A backtick code span when that is safe (no backtick, no '|', which
      would end a table cell even inside a code span, no space at either end, which a span drops); otherwise
      `<code>` with the "text" escapes, which are decoded there as in text.
    - "block": not the text but the fence for a fenced code block holding it: a backtick run longer than any
      in the text (at least three), so that no line of the text closes the block.
    """
    text = str(value)
    if how == "block":
        return "`" * max(3, 1 + max((len(run) for run in _BACKTICKS.findall(text)), default=0))
    visible = "".join(c if c.isprintable() else _python_escape(c) for c in text)
    if how == "code":
        if visible and not any(c in visible for c in "`|") and visible == visible.strip(" "):
            return f"`{visible}`"
        return f"<code>{escape(visible)}</code>"
    if how != "text":
        raise ValueError(f"unknown escape {how!r}")
    return "".join(_SIGNIFICANT.get(c, c) for c in visible)


def _python_escape(char: str) -> str:
    """A character as Python writes it in a string literal: \\n, \\t, \\x1b, \\u202e, \\U000e0001."""
    return repr(char)[1:-1]
