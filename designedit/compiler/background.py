"""Pass: the background's edits, in document order.

`remove` adds its mask (and `refine` its refine mask). `pan` and `zoom-out`
lower to removal (method 9): the background recipe gets the op (the shifted or
shrunk content pasted over the original, so holes start from nearby content),
and the uncovered strip or border becomes a hole. Masks named before a pan or
zoom move with the content: every region is mapped to the final frame. Canvas
area the background picture does not cover is a hole too (it is outpainted).
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import masks as M
from ..images import file_sha256, shifted_paste, whole_pixels, zoom_rect
from ..model import Pan, Remove, Scene, ZoomOut, resolve_length
from ..paths import resolve_reference
from ..pictures import PictureError, picture_size
from ..plan import Size
from .context import BackgroundIR, fail, image_path, place


def map_pan(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    return M.shift(mask, dx, dy)


def map_zoom(mask: np.ndarray, factor: float, truncate: bool = False) -> np.ndarray:
    h, w = mask.shape
    x0, y0, zw, zh = zoom_rect(w, h, factor, truncate)
    out = np.zeros_like(mask)
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


def map_through(mask: np.ndarray, geometry: list[tuple[str, tuple]]) -> np.ndarray:
    for kind, args in geometry:
        mask = map_pan(mask, *args) if kind == "pan" else map_zoom(mask, *args)
    return mask


def lower_background(scene: Scene, canvas: Size, resolver: M.MaskResolver, truncate: bool = False) -> BackgroundIR:
    """`truncate`: pan and zoom-out sizes in whole pixels toward zero, as the authors' code computes them
    (`int(scale * W)`; the reference schedule), instead of rounded."""
    w, h = canvas.width, canvas.height
    image = scene.image(scene.background.image)
    where = image_path(scene, image.id)
    path = resolve_reference(scene.origin, image.src, place(scene, where))
    try:
        pw, ph = picture_size(path)
    except PictureError as exc:
        raise fail(scene, "", str(exc), where) from None
    bg = BackgroundIR(src=path, sha256=file_sha256(path), geometry=[])

    if pw < w or ph < h:  # the picture sits at the origin unscaled; the rest is outpainted
        bg.holes.append(255 - M.place(np.full((ph, pw), 255, np.uint8), w, h))
        bg.extend = True  # outpainting starts from nearby content, not black (method 9, Fig. 13)

    for edit in scene.background.edits:
        if isinstance(edit, Remove):
            bg.removes = [m for m in bg.removes] + [resolver(edit.mask)]
            if edit.refine is not None:
                bg.refines.append(resolver(edit.refine))
            continue
        if isinstance(edit, Pan):
            step = ("pan", (whole_pixels(resolve_length(edit.dx, w), truncate), whole_pixels(resolve_length(edit.dy, h), truncate)))
            hole = pan_hole(w, h, *step[1])
        elif isinstance(edit, ZoomOut):
            step = ("zoom-out", (float(edit.factor), truncate))
            hole = zoom_hole(w, h, *step[1])
        else:  # pragma: no cover - the model admits no other edit
            raise fail(scene, "background", f"unknown edit {edit!r}", ("background",))
        # earlier regions move with the content; the new hole joins the holes
        bg.removes = [map_through(m, [step]) for m in bg.removes]
        bg.refines = [map_through(m, [step]) for m in bg.refines]
        bg.holes = [map_through(m, [step]) for m in bg.holes] + [hole]
        bg.geometry.append(step)
    return bg
