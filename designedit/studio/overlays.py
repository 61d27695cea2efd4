"""What the page draws over the picture, from the compiler's own values: the removal region, the edit region,
and each layer's outline where it was cut and where it lands, as SVG path data in canvas pixels.

The page's SVG has the canvas as its viewBox, so these paths also do the hit-testing: a press is on a layer
when it is inside that layer's landed path (`isPointInFill`), the last-pasted layer first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import cv2
import numpy as np

from designedit.compiler.ir import LayerIR
from designedit.compiler.lowering import Lowering
from designedit.imaging.geometry import nearest, shift
from designedit.plan import names as N

THRESHOLD = 128  # a feathered mask's pixel belongs to the region from half coverage on


def outline(mask: Optional[np.ndarray]) -> str:
    """SVG path data tracing a mask's regions and holes (fill-rule evenodd), through pixel centres."""
    if mask is None:
        return ""
    binary = (mask >= THRESHOLD).astype(np.uint8)
    if not binary.any():
        return ""
    contours, _ = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    parts = []
    for contour in contours:
        points = contour.reshape(-1, 2)
        if len(points) == 1:  # a lone pixel: a small square, so it can still be seen and hit
            x, y = points[0]
            parts.append(f"M{x} {y}h1v1h-1Z")
            continue
        # +0.5: contour points are pixel indices; a pixel i covers [i, i+1) on the page's canvas
        parts.append("M" + "L".join(f"{x + 0.5:g} {y + 0.5:g}" for x, y in points) + "Z")
    return "".join(parts)


@dataclass
class LayerOutline:
    id: str
    cut: str  # where the object was taken from
    landed: str  # where it lands after its transforms
    box: Optional[list[int]]  # landed non-zero box [x0, y0, x1, y1] (x1, y1 exclusive)
    centre: Optional[list[float]]  # landed centroid: resize and flip act about it

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "cut": self.cut, "landed": self.landed, "box": self.box, "centre": self.centre}


@dataclass
class Overlays:
    width: int
    height: int
    remove: str = ""
    edit: str = ""
    layers: list[LayerOutline] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"canvas": [self.width, self.height], "remove": self.remove, "edit": self.edit,
                "layers": [layer.to_json() for layer in self.layers]}


def landed_mask(layer: LayerIR) -> np.ndarray:
    """The layer's drawn mask where it lands: its frame mask moved by the translation the plan achieved."""
    dx, dy = (nearest(v) for v in layer.applied_px)
    return shift(layer.drawn_frame, dx, dy)


def _box_and_centre(mask: np.ndarray) -> tuple[Optional[list[int]], Optional[list[float]]]:
    binary = mask >= THRESHOLD
    ys, xs = np.nonzero(binary)
    if len(xs) == 0:
        return None, None
    box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    return box, [round(float(xs.mean()) + 0.5, 2), round(float(ys.mean()) + 0.5, 2)]


def overlays_of(lowered: Lowering) -> Overlays:
    masks = lowered.masks
    found = Overlays(lowered.canvas.width, lowered.canvas.height)
    found.remove = outline(masks[N.REMOVE_CANVAS].data) if N.REMOVE_CANVAS in masks else ""
    found.edit = outline(masks[N.EDIT_CANVAS].data) if N.EDIT_CANVAS in masks else ""
    for layer in lowered.layers:
        landed = landed_mask(layer)
        box, centre = _box_and_centre(landed)
        found.layers.append(LayerOutline(layer.id, outline(layer.drawn_placed), outline(landed), box, centre))
    return found
