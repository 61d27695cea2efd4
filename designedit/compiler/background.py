"""Pass: the background's edits, in document order.

`remove` adds its mask (and `refine` its refine mask). `pan` and `zoom-out`
lower to removal (method 9): the background recipe gets the op (the shifted or
shrunk content pasted over the original, so holes start from nearby content),
and the uncovered strip or border becomes a hole. Masks named before a pan or
zoom move with the content: every region is mapped to the final frame. Canvas
area the background picture does not cover is a hole too (it is outpainted).
Regions are folded into their group (`masks.MaskGroup`) as they come; mask
pictures are scaled to the background picture (`masks.MaskResolver`).
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from designedit import masks as M
from designedit.imaging.files import file_sha256
from designedit.imaging.geometry import shifted_paste, whole_pixels, zoom_rect
from designedit.model.scene import Pan, Remove, Scene, ZoomOut, resolve_length
from designedit.checks.paths import resolve_reference
from designedit.imaging.pictures import picture_size
from designedit.plan import Size
from designedit.compiler.ir import BackgroundIR
from designedit.compiler.located import fail, image_path, picture_at, place

Geometry = tuple[tuple[str, tuple], ...]  # the camera steps: ("pan", (dx, dy)) / ("zoom-out", (factor, truncate))


def map_pan(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    return M.shift(mask, dx, dy)


def map_zoom(mask: np.ndarray, factor: float, truncate: bool = False) -> np.ndarray:
    h, w = mask.shape
    x0, y0, zw, zh = zoom_rect(w, h, factor, truncate)
    out = np.zeros(mask.shape, mask.dtype)
    out[y0 : y0 + zh, x0 : x0 + zw] = cv2.resize(mask, (zw, zh), interpolation=cv2.INTER_AREA)
    return out


def pan_hole(width: int, height: int, dx: int, dy: int) -> np.ndarray:
    """Pixels the shifted frame does not cover."""
    covered = np.zeros((height, width), np.uint8)
    shifted_paste(covered, np.full((height, width), 255, np.uint8), dx, dy)
    return 255 - covered


def zoom_hole(width: int, height: int, factor: float, truncate: bool = False) -> np.ndarray:
    x0, y0, zw, zh = zoom_rect(width, height, factor, truncate)
    hole = np.full((height, width), 255, np.uint8)
    hole[y0 : y0 + zh, x0 : x0 + zw] = 0
    return hole


def map_through(mask: np.ndarray, geometry: Geometry) -> np.ndarray:
    for kind, args in geometry:
        mask = map_pan(mask, *args) if kind == "pan" else map_zoom(mask, *args)
    return mask


def map_crop_through(mask: M.Crop, geometry: Geometry) -> M.Crop:
    """`map_through` for a mask kept to its extent: a pan moves the box; a zoom-out works on the canvas."""
    for kind, args in geometry:
        if mask.box is None:
            break
        mask = mask.moved(*args) if kind == "pan" else M.Crop.of(map_zoom(mask.full(), *args))
    return mask


def _geometry(scene: Scene, w: int, h: int, truncate: bool) -> Geometry:
    """The camera steps (pan, zoom-out) of the background's edits, in order."""
    steps: list[tuple[str, tuple]] = []
    for edit in scene.background.edits:
        if isinstance(edit, Pan):
            steps.append(("pan", (whole_pixels(resolve_length(edit.dx, w), truncate), whole_pixels(resolve_length(edit.dy, h), truncate))))
        elif isinstance(edit, ZoomOut):
            steps.append(("zoom-out", (float(edit.factor), truncate)))
        elif not isinstance(edit, Remove):  # pragma: no cover - the model admits no other edit
            raise fail(scene, "background", f"unknown edit {edit!r}", ("background",))
    return tuple(steps)


def lower_background(scene: Scene, canvas: Size, resolver: M.MaskResolver, truncate: bool = False,
                     render: Optional[tuple[int, int]] = None) -> BackgroundIR:
    """`truncate`: pan and zoom-out sizes in whole pixels toward zero, as the authors' code computes them
    (`int(scale * W)`; the reference schedule), instead of rounded. `render` (width, height): the reference
    schedule's render size, which its removal masks are resized to one by one (`MaskGroup`).

    Each region is mapped to the final frame by the camera steps after it and folded into its group at
    once, so no region is kept: a document of many removals holds one canvas per group."""
    w, h = canvas.width, canvas.height
    image = scene.image(scene.background.image)
    where = image_path(scene, image.id)
    path = resolve_reference(scene.origin, image.src, place(scene, where))
    with picture_at(scene, where):
        pw, ph = picture_size(path)
    sha256, geometry = file_sha256(path), _geometry(scene, w, h, truncate)
    removes, refines, holes = (M.MaskGroup((h, w), render) for _ in range(3))

    # the picture sits at the origin unscaled; the rest is outpainted, starting from nearby content, not
    # black (method 9, Fig. 13)
    extend = pw < w or ph < h
    if extend:
        holes.add(map_crop_through(M.Crop.of(255 - M.place(np.full((ph, pw), 255, np.uint8), w, h)), geometry))

    peaks: list[int] = []
    done = 0  # camera steps before the current edit: regions move with the content through the rest
    for edit in scene.background.edits:
        later = geometry[done:]
        if isinstance(edit, Remove):
            removed = map_crop_through(resolver.crop(edit.mask, image.id), later)
            peaks.append(int(removed.data.max()) if removed.box is not None else 0)
            removes.add(removed)
            if edit.refine is not None:
                refines.add(map_crop_through(resolver.crop(edit.refine, image.id), later))
            continue
        kind, args = geometry[done]
        hole = pan_hole(w, h, *args) if kind == "pan" else zoom_hole(w, h, *args)
        holes.add(map_crop_through(M.Crop.of(hole), later[1:]))
        done += 1
    return BackgroundIR(src=path, sha256=sha256, geometry=geometry, removes=removes, refines=refines, holes=holes,
                        extend=extend, remove_peaks=tuple(peaks))
