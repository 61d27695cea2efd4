"""Ids for the scene from layer names: readable, valid (`[A-Za-z_][A-Za-z0-9_.-]*`, at most 128
characters), unique within their kind."""

from __future__ import annotations

import re

_BAD = re.compile(r"[^A-Za-z0-9_.-]+")
RESERVED = {"background", "remove", "refine"}  # the ids the import gives the background and its masks


class Ids:
    """Hands out unique ids; `taken` starts with the reserved ones."""

    def __init__(self) -> None:
        self.taken: set[str] = set(RESERVED)

    def make(self, name: str) -> str:
        base = _BAD.sub("-", name.strip()).strip("-.") or "layer"
        if not re.match(r"[A-Za-z_]", base):
            base = f"layer-{base}"
        base = base[:120]
        candidate, n = base, 2
        while candidate.lower() in self.taken:
            candidate, n = f"{base}-{n}", n + 1
        self.taken.add(candidate.lower())
        return candidate
