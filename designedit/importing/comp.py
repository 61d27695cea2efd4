"""What a layered design file holds once read: the canvas and its visible leaf layers, bottom to top.

Both readers (`psd_reader`, `ora_reader`) produce a `Comp`; everything after them (matching, the scene) reads
only this. Hidden layers and the leaves of hidden groups are left out here, and so are empty layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from designedit.errors import Problem, SceneError
from designedit.model.quoting import quote

if TYPE_CHECKING:
    import numpy as np


@dataclass
class CompLayer:
    """One visible pixel layer. `path` is its name with the groups above it (`objects/ball copy`), which
    locates problems; `rgba` is uint8 (h, w, 4), its top-left corner at (`x`, `y`) on the canvas (either may be
    negative: a layer may hang off the canvas). `opacity` is 0..1 (the groups' included); `blend` is the
    mode's name in the file's own words, '' when normal; `kind` says where the pixels came from (pixel, type,
    shape...)."""

    name: str
    path: str
    rgba: "np.ndarray"
    x: int
    y: int
    opacity: float = 1.0
    blend: str = ""
    kind: str = "pixel"


@dataclass
class Comp:
    label: str  # the file as the user named it, for locations
    width: int
    height: int
    layers: list[CompLayer] = field(default_factory=list)  # bottom to top (paint order)
    warnings: list[str] = field(default_factory=list)  # one located sentence each


def layer_location(label: str, path: str) -> str:
    """Where a layer's problem is: `comp.psd: layer 'objects/ball'` (the name escaped, never more than a line)."""
    return f"{label}: layer {quote(path, 80)}"


def refuse(label: str, message: str, path: str | None = None) -> SceneError:
    """A SceneError of one sentence about the file, or about one of its layers when `path` is given."""
    return SceneError(Problem(layer_location(label, path) if path is not None else label, message))


def check_name(label: str, name: str, path: str) -> None:
    """Refuse a layer name that holds a control character (it would end up in ids, messages and file names)."""
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name):
        raise refuse(label, "its name holds a control character; rename the layer", path)
