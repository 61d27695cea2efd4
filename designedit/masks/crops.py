"""Masks kept to their extent (`Crop`), and the budgets of bytes masks may hold during one compile."""

from __future__ import annotations

from typing import Optional

import numpy as np

from designedit.masks.arrays import Array, Box, bbox, paste_max


class Crop:
    """A canvas-size mask kept as the box around its pixels that may be non-zero: `data` has its top-left at
    (x0, y0) on a canvas of `shape` (height, width), and the canvas is zero outside it. A mask of a few
    pixels on a 40 MP canvas then takes a few bytes, not 40 MB; `full()` gives the canvas-size array."""

    __slots__ = ("shape", "x0", "y0", "data")

    def __init__(self, shape: tuple[int, int], x0: int, y0: int, data: Array):
        self.shape = (int(shape[0]), int(shape[1]))
        self.x0, self.y0 = int(x0), int(y0)
        self.data = data

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> "Crop":
        return cls(shape, 0, 0, np.zeros((0, 0), np.uint8))

    @classmethod
    def of(cls, mask: Array, x0: int = 0, y0: int = 0, shape: Optional[tuple[int, int]] = None) -> "Crop":
        """`mask` (top-left at (x0, y0) on a canvas of `shape`, by default its own), cut to its non-zero box."""
        return cls(mask.shape if shape is None else shape, x0, y0, mask).trimmed()

    @property
    def box(self) -> Optional[Box]:
        h, w = self.data.shape
        return (self.x0, self.y0, self.x0 + w, self.y0 + h) if h and w else None

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)

    def trimmed(self) -> "Crop":
        """The same mask cut to its non-zero pixels (a copy when smaller, so the larger array can go)."""
        if self.box is None:
            return self
        inner = bbox(self.data)
        if inner is None:
            return Crop.empty(self.shape)
        x0, y0, x1, y1 = inner
        if (x1 - x0, y1 - y0) == self.data.shape[::-1]:
            return self
        return Crop(self.shape, self.x0 + x0, self.y0 + y0, self.data[y0:y1, x0:x1].copy())

    def max_into(self, out: Array, at: tuple[int, int] = (0, 0)) -> None:
        """out := max(out, this mask) where `out` holds the part of the canvas whose top-left is `at`."""
        if self.box is not None:
            paste_max(out, self.data, self.x0 - at[0], self.y0 - at[1])

    def window(self, box: Box) -> Array:
        """The mask's values over the canvas box `box` (a new array)."""
        x0, y0, x1, y1 = box
        out = np.zeros((y1 - y0, x1 - x0), np.uint8)
        self.max_into(out, (x0, y0))
        return out

    def full(self) -> Array:
        return self.window((0, 0, self.shape[1], self.shape[0]))

    def moved(self, dx: int, dy: int) -> "Crop":
        """Translated by whole pixels (`shift`): what leaves the canvas is gone."""
        box = self.box
        if box is None:
            return self
        H, W = self.shape
        x0, y0, x1, y1 = box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
        if cx1 <= cx0 or cy1 <= cy0:
            return Crop.empty(self.shape)
        data = self.data[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        return Crop(self.shape, cx0, cy0, data if data.shape == self.data.shape else data.copy())


# Bytes of masks one compile holds at once (masks made and still to be used, and the one being made): a
# few whole 40 MP canvases, so that a document's masks stay well inside a gigabyte whatever it chains.
MASK_BUDGET = 256 * 2**20
# Bytes of the canvas-size masks a compile keeps for its layers (each layer's mask where its picture sits
# and after its transforms: the plan carries one per layer), counted by the rows they touch.
LAYER_BUDGET = 384 * 2**20


def amount(n: int) -> str:
    """A number of bytes in words: "256 MB", "30 KB"."""
    return f"{n // 2**20} MB" if n >= 2**20 else f"{n // 1024} KB"


class Budget:
    """Bytes of masks held against a limit: the resolvers of one compile share one, its layers have one."""

    def __init__(self, limit: int):
        self.limit = limit
        self.bytes = 0

    def charge_rows(self, mask: Optional[Array], box: Optional[Box] = None) -> bool:
        """Count a canvas-size mask by the rows its non-zero `box` spans (the memory pages it touches: the
        rest of a fresh array costs nothing); whether the total is still within the limit."""
        if mask is not None:
            box = box or bbox(mask)
            self.bytes += 0 if box is None else (box[3] - box[1]) * mask.shape[1]
        return self.bytes <= self.limit
