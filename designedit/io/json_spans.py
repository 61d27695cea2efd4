"""Where each value of a JSON text is, as character offsets.

`json` gives values, not places, and a patch (`io.patch`) must change exactly the characters of one number or
insert one member. This parser is meant for text the reader has already accepted (strict JSON): it returns
the same tree with the span of every value, and of every key of an object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

_SPACE = re.compile(r"[ \t\r\n]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_WORDS = {"true": True, "false": False, "null": None}


@dataclass
class Member:
    key: str
    key_start: int  # the key's opening quote
    key_end: int  # just after its closing quote
    value: "Node"


@dataclass
class Node:
    start: int
    end: int  # just after the value
    value: Any = None  # a scalar's value; None for objects and arrays
    members: Optional[list[Member]] = None  # an object's, in document order
    items: Optional[list["Node"]] = None  # an array's

    def member(self, key: str) -> Optional[Member]:
        return next((m for m in self.members or [] if m.key == key), None)


@dataclass
class _Parser:
    text: str
    decoder: json.JSONDecoder = field(default_factory=json.JSONDecoder)

    def skip(self, pos: int) -> int:
        return _SPACE.match(self.text, pos).end()  # type: ignore[union-attr]

    def expect(self, pos: int, char: str) -> int:
        if self.text[pos : pos + 1] != char:
            raise ValueError(f"expected {char!r} at {pos}")
        return pos + 1

    def value(self, pos: int) -> Node:
        pos = self.skip(pos)
        char = self.text[pos : pos + 1]
        if char == "{":
            return self.obj(pos)
        if char == "[":
            return self.array(pos)
        if char == '"':
            text, end = json.decoder.scanstring(self.text, pos + 1)  # type: ignore[attr-defined]
            return Node(pos, end, text)
        number = _NUMBER.match(self.text, pos)
        if number is not None and number.end() > pos:
            spelled = number.group(0)
            return Node(pos, number.end(), float(spelled) if any(c in spelled for c in ".eE") else int(spelled))
        for word, meaning in _WORDS.items():
            if self.text.startswith(word, pos):
                return Node(pos, pos + len(word), meaning)
        raise ValueError(f"no JSON value at {pos}")

    def obj(self, start: int) -> Node:
        node = Node(start, 0, members=[])
        pos = self.skip(start + 1)
        if self.text.startswith("}", pos):
            node.end = pos + 1
            return node
        while True:
            pos = self.skip(pos)
            key, after_key = json.decoder.scanstring(self.text, self.expect(pos, '"'))  # type: ignore[attr-defined]
            value = self.value(self.expect(self.skip(after_key), ":"))
            node.members.append(Member(key, pos, after_key, value))  # type: ignore[union-attr]
            pos = self.skip(value.end)
            if self.text.startswith("}", pos):
                node.end = pos + 1
                return node
            pos = self.expect(pos, ",")

    def array(self, start: int) -> Node:
        node = Node(start, 0, items=[])
        pos = self.skip(start + 1)
        if self.text.startswith("]", pos):
            node.end = pos + 1
            return node
        while True:
            item = self.value(pos)
            node.items.append(item)  # type: ignore[union-attr]
            pos = self.skip(item.end)
            if self.text.startswith("]", pos):
                node.end = pos + 1
                return node
            pos = self.expect(pos, ",")


def scan(text: str, start: int = 0) -> Node:
    """The value that starts at `start` (after white space), with every place; ValueError if it is no JSON."""
    return _Parser(text).value(start)

