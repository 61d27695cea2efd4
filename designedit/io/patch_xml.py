"""The XML form's part of `io.patch`: edits as (start, end, replacement) on the text, found with `xml_spans`.

Layers are the root's `<layer>` children in document order, and a layer's transforms are its child elements
(the reader refuses anything else), so the n-th of each is the model's n-th.
"""

from __future__ import annotations

import re
from typing import Optional

from designedit.io import text_layout as lay
from designedit.io import xml_spans
from designedit.io.xml_spans import Element

Edit = tuple[int, int, str]
DEFAULT_STEP = "  "
_COMMENT_AFTER = re.compile(r"[ \t]*<!--.*?-->", re.S)


def escape_attr(text: str, quote: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")
    return text.replace(quote, "&quot;" if quote == '"' else "&apos;")


class XmlText:
    def __init__(self, text: str):
        self.text = text
        self.root = xml_spans.scan(text)

    def layer(self, index: int) -> Element:
        return [child for child in self.root.children if child.tag == "layer"][index]

    def set_values(self, layer: int, transform: int, values: dict[str, str]) -> list[Edit]:
        """Edits that replace the named attribute values (already formatted) of one transform."""
        element = self.layer(layer).children[transform]
        edits = []
        for name, value in values.items():
            attr = element.attr(name)
            if attr is None:
                raise ValueError(f"<{element.tag}> has no attribute {name}")
            edits.append((attr.start, attr.end, escape_attr(value, attr.quote)))
        return edits

    def append(self, layer: int, op: str, attrs: list[tuple[str, str]]) -> list[Edit]:
        """Edits that add `<op attrs/>` as the layer's last child, laid out like its neighbours."""
        element = self.layer(layer)
        quote = next(iter(element.attrs.values())).quote if element.attrs else '"'
        new = f"<{op}" + "".join(f" {name}={quote}{escape_attr(value, quote)}{quote}" for name, value in attrs) + "/>"
        if element.children:
            return [self._after_last_child(element, new)]
        return [self._first_child(element, new)]

    # -- layout

    def _after_last_child(self, element: Element, new: str) -> Edit:
        text, last = self.text, element.children[-1]
        gap = text[lay.space_before(text, last.start) : last.start]
        if "\n" not in gap:  # children on one line: the same separator again
            return (last.end, last.end, gap + new)
        pos = last.end
        while True:  # after the comments that end the last child's line: they belong to it
            comment = _COMMENT_AFTER.match(text, pos)
            if comment is None:  # (it may only start after spaces and tabs: on the same line)
                break
            pos = comment.end()
        indent = gap[gap.rfind("\n") + 1 :]
        return (pos, pos, lay.newline(text) + indent + new)

    def _first_child(self, element: Element, new: str) -> Edit:
        text, nl = self.text, lay.newline(self.text)
        indent = lay.line_indent(text, element.start)
        if element.self_closing:
            head = element.head_end - 2  # the '/' of '/>'
            start = max(lay.space_before(text, head), self._last_attr_end(element))
            if indent is None:
                inner = new
            else:
                inner = nl + indent + self.step() + new + nl + indent
            return (start, element.head_end, ">" + inner + f"</{element.tag}>")
        close = element.close_start
        assert close is not None
        close_indent = lay.line_indent(text, close)
        if close_indent is not None and lay.line_start(text, close) > element.head_end:
            child_indent = (indent if indent is not None else close_indent) + self.step()
            at = lay.line_start(text, close)
            return (at, at, child_indent + new + nl)
        if indent is None:
            return (close, close, new)
        return (close, close, nl + indent + self.step() + new + nl + indent)

    def _last_attr_end(self, element: Element) -> int:
        ends = [attr.end + 1 for attr in element.attrs.values()]  # past the closing quote
        return max(ends, default=element.start + 1 + len(element.tag))

    def step(self) -> str:
        """One level of indentation, as the document writes it (two spaces if it shows none)."""
        found = self._step(self.root, lay.line_indent(self.text, self.root.start))
        return found if found is not None else DEFAULT_STEP

    def _step(self, element: Element, indent: Optional[str]) -> Optional[str]:
        for child in element.children:
            child_indent = lay.line_indent(self.text, child.start)
            step = lay.deeper(indent, child_indent)
            if step is not None:
                return step
            found = self._step(child, child_indent)
            if found is not None:
                return found
        return None
