"""Where each element and attribute value of a well-formed XML text is, as character offsets.

lxml gives lines only, and a patch (`io.patch`) must change exactly the characters of one attribute value
or insert one element. This scanner is meant for text the reader has already accepted (well-formed, no
DOCTYPE): it walks the markup once, skipping comments, processing instructions and CDATA sections, and
builds the element tree with the span of every start tag, end tag and attribute value (quotes excluded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

_NAME = re.compile(r"[^\s/>=]+")
_ATTR = re.compile(r"\s*([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_TAG_END = re.compile(r"\s*(/?)>")
_SKIPPED = {"<!--": "-->", "<![CDATA[": "]]>", "<?": "?>"}


@dataclass
class Attr:
    name: str
    start: int  # the value's first character, after the quote
    end: int  # just before the closing quote
    quote: str  # ' or "


@dataclass
class Element:
    tag: str
    start: int  # the '<' of the start tag
    head_end: int  # just after the start tag's '>' (or '/>')
    end: int  # just after the end tag's '>' (== head_end when self-closing)
    self_closing: bool
    attrs: dict[str, Attr] = field(default_factory=dict)
    children: list["Element"] = field(default_factory=list)
    close_start: Optional[int] = None  # the '<' of the end tag; None when self-closing

    def attr(self, name: str) -> Optional[Attr]:
        return self.attrs.get(name)


def scan(text: str) -> Element:
    """The root element of `text`, a well-formed document; ValueError if the text is not one."""
    stack: list[Element] = []
    root: Optional[Element] = None
    i = text.find("<")
    while i != -1:
        opener = next((o for o in _SKIPPED if text.startswith(o, i)), None)
        if opener is not None:
            close = text.find(_SKIPPED[opener], i + len(opener))
            if close == -1:
                raise ValueError("unterminated markup")
            i = text.find("<", close + len(_SKIPPED[opener]))
            continue
        if text.startswith("<!", i):
            raise ValueError("declarations are not scanned")  # the reader refuses them first
        if text.startswith("</", i):
            close = text.find(">", i)
            if not stack or close == -1:
                raise ValueError("unbalanced end tag")
            element = stack.pop()
            element.close_start, element.end = i, close + 1
            i = text.find("<", close + 1)
            continue
        name = _NAME.match(text, i + 1)
        if name is None:
            raise ValueError("a '<' that starts no element")
        element = Element(name.group(0), i, 0, 0, False)
        pos = name.end()
        while True:
            attr = _ATTR.match(text, pos)
            if attr is None:
                break
            group = 2 if attr.group(2) is not None else 3
            element.attrs.setdefault(attr.group(1), Attr(attr.group(1), attr.start(group), attr.end(group),
                                                         text[attr.start(group) - 1]))
            pos = attr.end()
        tag_end = _TAG_END.match(text, pos)
        if tag_end is None:
            raise ValueError("a start tag without its '>'")
        element.head_end = tag_end.end()
        element.self_closing = tag_end.group(1) == "/"
        if stack:
            stack[-1].children.append(element)
        elif root is None:
            root = element
        else:
            raise ValueError("more than one root element")
        if element.self_closing:
            element.end = element.head_end
        else:
            stack.append(element)
        i = text.find("<", element.head_end)
    if root is None or stack:
        raise ValueError("no complete root element")
    return root
