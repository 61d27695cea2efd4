"""The values passed between compiler passes: frozen, each pass makes new ones from those it is given.

Canvas pixels unless said otherwise. A layer is a `PlacedLayer` after the layers pass (its masks where its
picture sits) and a `LayerIR` after the transforms pass (the same, and its masks in its frame and its move).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Optional

import numpy as np

from designedit.masks import MaskGroup

Box = tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class PlacedLayer:
    """One scene layer where its picture sits, before its transforms."""

    id: str
    index: int  # 1-based paste order
    src: Path
    sha256: str
    x: int
    y: int
    cuts: bool
    mask_placed: np.ndarray  # the layer mask where the picture sits
    box_placed: Box  # non-zero box of mask_placed
    occluder_placed: Optional[np.ndarray]
    # the reference reads mask pictures' grey values (method 12); what is drawn on the canvas (the
    # `layer:<id>@canvas` mask) stays thresholded: set in the reference for every layer with a mask
    canvas_placed: Optional[np.ndarray]

    @property
    def drawn_placed(self) -> np.ndarray:
        """The mask as drawn on the canvas, before the image-level transform."""
        return self.mask_placed if self.canvas_placed is None else self.canvas_placed


@dataclass(frozen=True, eq=False)
class LayerIR(PlacedLayer):
    """One scene layer after the transforms pass."""

    linear: np.ndarray  # 2x2, folded resize/flip/rotate
    centroid: tuple[float, float]
    matrix: Optional[np.ndarray]  # 2x3 image-level affine, None when identity
    mask_frame: np.ndarray  # after the image-level transform (before the move)
    box_frame: Optional[Box]
    occluder_frame: Optional[np.ndarray]
    canvas_frame: Optional[np.ndarray]
    dx_px: float  # requested translation
    dy_px: float
    dx: int  # latent cells
    dy: int
    applied_px: tuple[float, float]
    rounding_px: tuple[float, float]

    @classmethod
    def of(cls, placed: PlacedLayer, **transformed: Any) -> "LayerIR":
        """`placed` with the transforms pass's fields."""
        return cls(**{f.name: getattr(placed, f.name) for f in fields(PlacedLayer)}, **transformed)

    @property
    def drawn_frame(self) -> np.ndarray:
        """The mask as drawn on the canvas, after the image-level transform (`layer:<id>@canvas`)."""
        return self.mask_frame if self.canvas_frame is None else self.canvas_frame


@dataclass(frozen=True, eq=False)
class BackgroundIR:
    src: Path
    sha256: str
    geometry: tuple[tuple[str, tuple], ...]  # ("pan", (dx, dy)) / ("zoom-out", (factor, truncate)) in order
    # canvas masks, mapped to the final frame, folded; the regions pass adds cut layers to a copy of `removes`
    removes: MaskGroup
    refines: MaskGroup
    holes: MaskGroup  # pan/zoom/outpaint regions
    extend: bool  # the picture does not cover the canvas: replicate its edges outwards
    remove_peaks: tuple[int, ...]  # each removal's largest value, for the lint pass
