"""Masks a model derives (format 1.3's `attention` shape): where they are needed, and their values.

A render resolves them before compiling: `attention_uses` says which (image, word) pairs a scene needs (each
attention shape, for every picture its mask selects from, `use` chains followed); a renderer that runs a
model derives one map per pair; `Derived` hands the maps to `MaskResolver`, which resizes each to its picture
(bilinear) and thresholds it there. Without a map, compiling is refused at the shape, unless the caller asks
for stand-ins (`dedit validate` and `dedit plan` without a model): the whole picture then stands in and the
caller says which masks await a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np

from designedit.masks.arrays import Array
from designedit.model.scene import Attention, Mask, Scene, Use

Pair = tuple[str, str]  # (image id, word)


@dataclass(frozen=True)
class AttentionUse:
    """One attention shape as one picture needs it: mask `mask` (its shape number `shape`) selects from image
    `image`, where `word` is attended."""

    mask: str
    shape: int
    image: str
    word: str
    threshold: float

    @property
    def pair(self) -> Pair:
        return (self.image, self.word)


def _selections(scene: Scene) -> list[tuple[str, str]]:
    """(mask id, image id) for every mask the scene applies to a picture, as the compiler asks for them."""
    out: list[tuple[str, str]] = []
    for edit in scene.background.edits:
        for mask_id in (getattr(edit, "mask", None), getattr(edit, "refine", None)):
            if mask_id is not None:
                out.append((mask_id, scene.background.image))
    for layer in scene.layers:
        for mask_id in (layer.mask, layer.occluder):
            if mask_id is not None:
                out.append((mask_id, layer.image))
    return out


def attention_uses(scene: Scene) -> list[AttentionUse]:
    """Every attention shape reached from a mask the scene applies, once per picture, in document order."""
    masks: dict[str, Mask] = {}
    for mask in scene.masks:
        masks.setdefault(mask.id, mask)
    found: dict[tuple[str, int, str], AttentionUse] = {}
    for start, image in _selections(scene):
        stack, seen = [start], set()
        while stack:  # `use` chains without recursion; a cycle is the reader's to report
            mask_id = stack.pop()
            if mask_id in seen or mask_id not in masks:
                continue
            seen.add(mask_id)
            for index, shape in enumerate(masks[mask_id].shapes):
                if isinstance(shape, Use):
                    stack.append(shape.mask)
                elif isinstance(shape, Attention):
                    found.setdefault((mask_id, index, image),
                                     AttentionUse(mask_id, index, image, shape.word, float(shape.threshold)))
    order = {mask.id: i for i, mask in reversed(list(enumerate(scene.masks)))}
    return sorted(found.values(), key=lambda u: (order.get(u.mask, 0), u.shape, u.image))


def pairs(scene: Scene) -> list[Pair]:
    """The distinct (image, word) maps a scene needs, in document order."""
    return list(dict.fromkeys(use.pair for use in attention_uses(scene)))


def has_attention(scene: Scene) -> bool:
    return any(isinstance(shape, Attention) for mask in scene.masks for shape in mask.shapes)


@dataclass
class Derived:
    """Maps by (image id, word): float arrays in [0, 1] on the model's attention grid, any size. With
    `stand_in`, a missing map is the whole picture and its pair is recorded in `awaiting`."""

    maps: Mapping[Pair, Array] = field(default_factory=dict)
    stand_in: bool = False
    awaiting: list[Pair] = field(default_factory=list)

    def selection(self, image: str, word: str, threshold: float, size: tuple[int, int]) -> Optional[Array]:
        """The 0/255 selection at the picture's `size` (width, height), or None when the map is missing."""
        grid = self.maps.get((image, word))
        if grid is None:
            if not self.stand_in:
                return None
            if (image, word) not in self.awaiting:
                self.awaiting.append((image, word))
            return np.full((size[1], size[0]), 255, np.uint8)
        return select(grid, threshold, size)


def picture_map(grid: Array, size: tuple[int, int]) -> Array:
    """A [0, 1] map resized to `size` (width, height), bilinear: the value each picture pixel is thresholded at."""
    import cv2

    grid = np.asarray(grid, np.float32)
    return np.clip(cv2.resize(grid, size, interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def select(grid: Array, threshold: float, size: tuple[int, int]) -> Array:
    """Pixels of the picture where the resized map reaches `threshold`, as 0/255 (threshold 0: everything)."""
    return np.where(picture_map(grid, size) >= np.float32(threshold), np.uint8(255), np.uint8(0))


def awaiting_notes(scene: Scene) -> list[str]:
    """One sentence per mask whose attention map awaits a model (for `dedit validate` and `dedit plan`, which
    compile with stand-ins)."""
    by_mask: dict[str, list[str]] = {}
    for use in attention_uses(scene):
        what = f"{use.word!r} on image {use.image!r}"
        if what not in by_mask.setdefault(use.mask, []):
            by_mask[use.mask].append(what)
    return [f"mask {mask!r} awaits a model (attention to {', '.join(whats)}): the whole picture stands in for it "
            "here; `dedit render --model M` or `dedit masks` derives it" for mask, whats in by_mask.items()]
