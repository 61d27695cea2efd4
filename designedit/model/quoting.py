"""Echoing what a document wrote, safely: messages quote values, names and file references shortened and
with every character that does not print escaped (a NUL, a line break, a no-break space), so a hostile
value cannot flood, hide in, or break the line it is reported on."""

from __future__ import annotations

SHORT = 40  # values and names
LONG = 80  # file references, which are often long and must stay recognisable


def shorten(text: str, limit: int = SHORT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def escape(text: str) -> str:
    """`text` with each character that does not print (controls, separators other than a space) as Python
    writes it in a literal: \\x00, \\n, \\xa0, \\u2028."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def quote(text: str, limit: int = SHORT) -> str:
    """`text` in single quotes, shortened to `limit` characters and escaped."""
    return "'" + escape(shorten(text, limit)) + "'"
