"""Where things are in a document: paths in the JSON shape of a scene -> places people can find.

A path is a tuple of keys and indexes in the JSON shape of the model, for
example ("layers", 0, "transforms", 1, "dy"), whatever form the document was
written in. Readers record the place of everything they read; problems found
later (by pydantic, the reference checks, the file checks) are reported at the
place of the longest recorded prefix of their path.
"""

from __future__ import annotations

import itertools
import operator
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from designedit.errors import Problem, SceneError
from designedit.model.scene import Origin
from designedit.model.quoting import LONG, escape, shorten
from designedit.model.vocab import VERSION_KEY

Path = tuple


def json_pointer(path: Iterable) -> str:
    """RFC 6901 pointer; the model's `version` is the document's `dedit` key."""
    parts = list(path)
    if parts[:1] == ["version"]:
        parts[0] = VERSION_KEY
    # for people: a key that does not print (a NUL) is escaped, a very long one shortened
    return "".join("/" + escape(shorten(str(p), LONG)).replace("~", "~0").replace("/", "~1") for p in parts)


class LineIndex:
    """Offsets in a text -> 1-based (line, column), columns counted in characters."""

    def __init__(self, text: str):
        # each line's start: 0, then the running sum of (line length + 1); built by C loops (4 MiB of text)
        self._starts = [0, *map(operator.add, itertools.accumulate(map(len, text.split("\n")[:-1])), itertools.count(1))]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


class SourceMap:
    """Recorded places of one document, and the problems found in it (kept in document order)."""

    def __init__(self, label: str, form: str):
        self.label = label
        self.form = form  # "xml" | "json"
        self._places: dict[Path, tuple[int, str]] = {}
        self._problems: list[tuple[int, int, Problem]] = []
        self.reported: set[Path] = set()  # paths already explained; later checks skip what is below them

    # ---- recording places

    def place_xml(self, path: Path, line: int, col: int) -> None:
        self._places.setdefault(tuple(path), (line * 2**32 + col, f"{self.label}:{line}:{col}"))

    def place_json(self, path: Path) -> None:
        # the order only: a JSON location is written from the whole path of what is at fault (_locate)
        self._places.setdefault(tuple(path), (len(self._places), ""))

    def locate(self, path: Path) -> tuple[int, str]:
        """(document order, location text) for `path`."""
        return _locate(self._places, self.label, self.form, tuple(path))

    def locator(self) -> "Locator":
        """The recorded places alone, for finding things later (the compiler's problems)."""
        return Locator(self.label, self.form, {path: where for path, (_order, where) in self._places.items()})

    # ---- problems

    def report(self, path: Path, message: str) -> None:
        path = tuple(path)
        order, where = self.locate(path)
        self._problems.append((order, len(self._problems), Problem(where, message)))
        self.reported.add(path)

    def report_at(self, where: str, message: str, order: int = -1) -> None:
        """A problem at a place no path names (a syntax error's line and column)."""
        self._problems.append((order, len(self._problems), Problem(where, message)))

    def is_reported(self, path: Path) -> bool:
        path = tuple(path)
        return any(path[:cut] in self.reported for cut in range(len(path) + 1))

    @property
    def problems(self) -> list[Problem]:
        seen: set = set()
        out = []
        for _order, _n, problem in sorted(self._problems, key=lambda t: (t[0], t[1])):
            if problem not in seen:
                seen.add(problem)
                out.append(problem)
        return out

    def raise_if_any(self) -> None:
        if self._problems:
            raise SceneError(self.problems)


def _locate(places: dict, label: str, form: str, path: tuple) -> tuple[int, str]:
    for cut in range(len(path), -1, -1):
        found = places.get(path[:cut])
        if found is not None:
            order, where = found if isinstance(found, tuple) else (-1, found)
            if form == "json":
                where = f"{label}#{json_pointer(path)}"
            return order, where
    return -1, label if form == "xml" else f"{label}#{json_pointer(path)}"


@dataclass(frozen=True)
class Locator:
    """Where things were in a document that was read: model paths -> `file:line:col` or `file#/pointer`."""

    label: str
    form: str
    places: dict = field(repr=False)

    def locate(self, path: Path) -> str:
        return _locate(self.places, self.label, self.form, tuple(path))[1]


@dataclass(frozen=True)
class LocatedOrigin(Origin):
    """An Origin that also remembers where everything was in the document, so problems found later
    (by the compiler) can point into it."""

    locator: Optional[Locator] = field(default=None, compare=False, repr=False)


def scene_place(scene: Any, path: Path) -> str:
    """The location of `path` in a scene's document: its line and column (XML) or pointer (JSON) when the
    scene was read from text, else `file#/pointer` (`<scene>` for a scene built in code)."""
    origin = getattr(scene, "origin", None)
    locator = getattr(origin, "locator", None)
    if locator is not None:
        return locator.locate(path)
    label = str(origin.path) if origin is not None and origin.path is not None else "<scene>"
    return f"{label}#{json_pointer(path)}"


def place_of(source: Optional[SourceMap], path: Path) -> str:
    return source.locate(path)[1] if source is not None else f"<scene>#{json_pointer(path)}"
