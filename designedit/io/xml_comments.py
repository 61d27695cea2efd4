"""XML comments carried through a rewrite (`dedit fmt`, XML-to-XML `convert`).

A scene is edited like code, so a formatter must not delete its author's
notes. The model holds no comments; instead each comment is anchored to the
element it precedes (or follows on the same line), named by its path of (tag, n-th element of that tag
among its siblings) pairs, which the canonical writer can name too (it
reorders top-level elements by kind but keeps each kind's order). Comments
after an element's last child anchor to that element's end; comments before
or after the root element stay outside it. A comment whose anchor the writer
never reaches (an element that did not survive reading) is written before
the root's end tag rather than dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from lxml import etree

Path = tuple  # ((tag, nth), ...): () is the root element


@dataclass
class Comments:
    # ("before", path): right before that element; ("after", path): on the line where that element ends;
    # ("end", path): after its last child. Document order.
    anchored: dict[tuple[str, Path], list[str]] = field(default_factory=dict)
    prolog: list[str] = field(default_factory=list)  # before the root element
    epilog: list[str] = field(default_factory=list)  # after the root element

    def __len__(self) -> int:
        return sum(len(texts) for texts in self.anchored.values()) + len(self.prolog) + len(self.epilog)


def collect(root) -> Optional[Comments]:
    """The comments of a parsed document, or None when it has none."""
    found = Comments()
    for node in root.itersiblings(preceding=True):
        if isinstance(node, etree._Comment):
            found.prolog.insert(0, node.text or "")
    for node in root.itersiblings():
        if isinstance(node, etree._Comment):
            found.epilog.append(node.text or "")
    _collect_inside(root, (), found)
    return found if len(found) else None


def _collect_inside(el, path: Path, found: Comments) -> None:
    pending: list[str] = []
    counts: dict[str, int] = {}
    last: Optional[Path] = None  # the previous element, while nothing but spaces follows it on its line
    for child in el:
        if isinstance(child, etree._Comment):
            if last is not None:
                found.anchored.setdefault(("after", last), []).append(child.text or "")
            else:
                pending.append(child.text or "")
        elif isinstance(child.tag, str):
            child_path = path + (_nth(counts, child.tag),)
            if pending:
                found.anchored[("before", child_path)] = pending
                pending = []
            _collect_inside(child, child_path, found)
            last = child_path
        if last is not None and "\n" in (child.tail or ""):
            last = None  # a line break ends "on the same line"
    if pending:
        found.anchored[("end", path)] = pending


def _nth(counts: dict[str, int], tag: str) -> tuple[str, int]:
    n = counts.get(tag, 0)
    counts[tag] = n + 1
    return (tag, n)


class Placer:
    """Hands the writer each anchor's comments once, and whatever is left at the end."""

    def __init__(self, comments: Optional[Comments]):
        self.comments = comments or Comments()
        self.used: set[tuple[str, Path]] = set()

    def child_path(self, parent: Path, counts: dict[str, int], tag: str) -> Path:
        return parent + (_nth(counts, tag),)

    def before(self, path: Path) -> list[str]:
        return self._take("before", path)

    def end(self, path: Path) -> list[str]:
        return self._take("end", path)

    def after(self, path: Path, out: list[str]) -> None:
        """Append the comments that followed the element on its last line to that line (`out[-1]`)."""
        for text in self._take("after", path):
            out[-1] += f" <!--{text}-->"

    def _take(self, kind: str, path: Path) -> list[str]:
        self.used.add((kind, path))
        return self.comments.anchored.get((kind, path), [])

    def leftover(self) -> list[str]:
        """Comments whose anchor was never written, in document order."""
        return [text for key, texts in self.comments.anchored.items() if key not in self.used for text in texts]


def lines(texts: list[str], indent: str) -> list[str]:
    return [f"{indent}<!--{text}-->" for text in texts]
