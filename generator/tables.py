"""Aligned text tables for the summaries of runs over many repositories; every cell is made printable."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> list[str]:
    """Rows as aligned text columns (the last one is not padded); `right`: columns aligned right.

    Every cell goes through `printable`: a name or path with a newline or a terminal escape cannot add rows
    or move the cursor."""
    cells = [[printable(c) for c in headers], *([printable(c) for c in row] for row in rows)]
    right = set(right)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return [
        "  ".join(
            [*(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(row[:-1])), row[-1]]
        ).rstrip()
        for row in cells
    ]


def printable(text: str) -> str:
    """`text` with each character a terminal would act on or not show written as Python writes it in a string
    literal (\\n, \\r, \\t, \\x1b, \\x9b, \\u202e, \\u2028): every user string the tables and `details` print
    passes through here. Other characters, the backslash included, are left as they are."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cell(message: str | None, width: int = 160) -> str:
    """A message as one table cell: its first line, cut at `width` characters; `details` has the rest.
    Lines end at '\\n' only: other line breaks (\\r, \\u2028, ...) are characters that `printable` shows."""
    lines = (message or "").strip().split("\n")
    first = lines[0].strip()
    if len(first) > width:
        return first[: width - 3] + "..."
    return first + (" ..." if len(lines) > 1 else "")


def details(messages: Iterable[tuple[str, str | None]], width: int = 160) -> list[str]:
    """The messages `cell` shortened, in full under the table, each under its subject."""
    lines: list[str] = []
    for subject, message in messages:
        if message and cell(message, width) != message.strip():
            lines += ["", f"{printable(subject)}:", *(f"  {printable(line)}" for line in message.strip().split("\n"))]
    return lines
