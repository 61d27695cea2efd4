"""How a text is laid out (line ends, indentation), so that what a patch inserts looks like its neighbours."""

from __future__ import annotations

from typing import Optional

SPACE = " \t\r\n"


def newline(text: str) -> str:
    """The text's line end: CRLF when it uses CRLF, else LF."""
    return "\r\n" if "\r\n" in text else "\n"


def line_indent(text: str, pos: int) -> Optional[str]:
    """The white space from the start of `pos`'s line to `pos`, or None when something else is before it on
    that line."""
    start = max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1
    before = text[start:pos].lstrip("\ufeff")  # a byte order mark is no indentation
    return before if before.strip(" \t") == "" else None


def space_before(text: str, pos: int) -> int:
    """The start of the run of white space that ends at `pos`."""
    start = pos
    while start > 0 and text[start - 1] in SPACE:
        start -= 1
    return start


def line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def deeper(outer: Optional[str], inner: Optional[str]) -> Optional[str]:
    """What `inner` adds to `outer` (one indentation step), or None when it is not a deeper indentation."""
    if outer is None or inner is None or not inner.startswith(outer) or len(inner) == len(outer):
        return None
    return inner[len(outer):]


def apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """`text` with each (start, end, replacement) made; the spans may not overlap."""
    out, pos = [], 0
    for start, end, replacement in sorted(edits):
        if start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)
