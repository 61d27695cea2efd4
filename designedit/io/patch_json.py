"""The JSON form's part of `io.patch`: edits as (start, end, replacement) on the text, found with `json_spans`.

Values come formatted as JSON literals (`25`, `"horizontal"`). A new transform copies the shape of the
layer's last one (its spacing, one line or several); without one it is written on one line in the
document's spacing (`": "` or `":"`).
"""

from __future__ import annotations

from typing import Optional

from designedit.io import json_spans
from designedit.io import text_layout as lay
from designedit.io.json_spans import Node

Edit = tuple[int, int, str]
DEFAULT_STEP = "  "


class JsonText:
    def __init__(self, text: str):
        self.text = text
        self.root = json_spans.scan(text, len(text) - len(text.lstrip("\ufeff")))

    def layer(self, index: int) -> Node:
        layers = self.root.member("layers")
        assert layers is not None and layers.value.items is not None
        return layers.value.items[index]

    def transforms(self, layer: int) -> Optional[Node]:
        found = self.layer(layer).member("transforms")
        return found.value if found is not None else None

    def set_values(self, layer: int, transform: int, values: dict[str, str]) -> list[Edit]:
        """Edits that replace the named members' values (JSON literals) of one transform."""
        transforms = self.transforms(layer)
        assert transforms is not None and transforms.items is not None
        element = transforms.items[transform]
        edits = []
        for key, literal in values.items():
            member = element.member(key)
            if member is None:
                raise ValueError(f"the transform has no key {key}")
            edits.append((member.value.start, member.value.end, literal))
        return edits

    def append(self, layer: int, members: list[tuple[str, str]]) -> list[Edit]:
        """Edits that add the object `members` (key, JSON literal) as the layer's last transform."""
        text, layer_node = self.text, self.layer(layer)
        transforms = self.transforms(layer)
        if transforms is not None and transforms.items:
            items = transforms.items
            last = items[-1]
            new = self._like(last, members)
            if len(items) > 1:
                separator = text[items[-2].end : last.start]
            else:
                separator = "," + text[transforms.start + 1 : last.start]
            return [(last.end, last.end, separator + new)]
        colon = self._colon(layer_node)
        new = "{" + self._one_line_separator(layer_node, colon).join(f"{key}{colon}{value}" for key, value in members) + "}"
        assert layer_node.members
        last_member = layer_node.members[-1]
        key_indent = lay.line_indent(text, last_member.key_start)
        multiline = key_indent is not None
        if transforms is not None:  # an empty list: fill it
            space = text[transforms.start + 1 : transforms.end - 1]
            inside = space + new + space  # `[ ]` becomes `[ {...} ]`
            if multiline:
                nl = lay.newline(text)
                inside = nl + key_indent + self.step() + new + nl + key_indent
            return [(transforms.start + 1, transforms.end - 1, inside)]
        members_of = layer_node.members
        separator = text[members_of[-2].value.end : last_member.key_start] if len(members_of) > 1 else ", "
        array = "[" + new + "]"
        if multiline:
            nl = lay.newline(text)
            array = "[" + nl + key_indent + self.step() + new + nl + key_indent + "]"
        return [(last_member.value.end, last_member.value.end, separator + '"transforms"' + colon + array)]

    # -- layout

    def _colon(self, node: Node) -> str:
        assert node.members
        first = node.members[0]
        return self.text[first.key_end : first.value.start]

    def _one_line_separator(self, node: Node, colon: str) -> str:
        """What separates members written on one line: as between the node's first two, when those share a line."""
        found = node.members or []
        between = self.text[found[0].value.end : found[1].key_start] if len(found) > 1 else "\n"
        return between if "\n" not in between else ", " if colon.endswith(" ") else ","

    def _like(self, neighbour: Node, members: list[tuple[str, str]]) -> str:
        """An object of `members` spaced as `neighbour` (an object of at least two members) is."""
        text = self.text
        found = neighbour.members
        assert found
        opening = text[neighbour.start + 1 : found[0].key_start]
        closing = text[found[-1].value.end : neighbour.end - 1]
        separator = text[found[0].value.end : found[1].key_start] if len(found) > 1 else ", "
        colon = self._colon(neighbour)
        return "{" + opening + separator.join(f"{key}{colon}{value}" for key, value in members) + closing + "}"

    def step(self) -> str:
        """One level of indentation, as the document writes it (two spaces if it shows none)."""
        found = self._step(self.root, lay.line_indent(self.text, self.root.start))
        return found if found is not None else DEFAULT_STEP

    def _step(self, node: Node, indent: Optional[str]) -> Optional[str]:
        children = [m.value for m in node.members or []] + list(node.items or [])
        starts = [m.key_start for m in node.members or []] + [item.start for item in node.items or []]
        for child, start in zip(children, starts):
            step = lay.deeper(indent, lay.line_indent(self.text, start))
            if step is not None:
                return step
        for child, start in zip(children, starts):
            found = self._step(child, lay.line_indent(self.text, start))
            if found is not None:
                return found
        return None
