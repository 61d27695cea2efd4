"""Pass: the masks the plan carries, at canvas and latent resolution.

- `remove@latent`: removes and cut layers' original masks (dilation 20 at
  1024 px) OR pan/zoom/outpaint holes (dilation 30), each group through the
  schedule's preprocessing (`masks.reference_latent` or `masks.fast_latent`).
- `refine@latent` (when some remove has a refine mask): remove OR refine
  (the refine mask dilated by 10 at 1024 px, as the authors' code does).
- `layer:<id>@latent`: the layer mask in its frame (after the image-level
  transform, before the move), dilation 10; `layer:<id>@canvas` the same mask
  undilated at canvas size (feathered values kept).
- `occlude:<id>@latent`: the occluder after the layer's image-level transform,
  dilation 20, shifted by the layer's latent move; `occlude@latent` the union;
  `occlude@canvas` the same union at canvas size (what a pixel preview fills).
- `remove@canvas`: the removal region at canvas size (centred dilations scaled
  to the canvas), what a pixel preview inpaints.
- `edit@canvas`: everything that may change (removal region, each layer's
  destination, moved occluders), grown and feathered: paste-back keeps the rest.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from designedit import masks as M
from designedit.imaging.geometry import nearest
from designedit.plan import MaskData, Size
from designedit.compiler.background import map_through
from designedit.compiler.ir import BackgroundIR, LayerIR
from designedit.compiler.options import Options
from designedit.plan import names as N

# Reference dilation sizes at 1024 px (method 4, 6, 12).
K_REMOVE = 20
K_PAN_ZOOM = 30
K_LAYER = 10
# The refine mask: the authors dilate it as attend_mask does by default (method 12 names no size for it).
K_REFINE = 10
# The occlusion key mask is a removal-like region: it gets the removal dilation.
K_OCCLUDE = K_REMOVE
# Paste-back margin around everything that may change, at 1024 px (grow, then a feathered edge).
EDIT_GROW = 24
EDIT_FEATHER = 8


def latent_of(group: list[np.ndarray], k: int, render: Size, latent: Size, opts: Options, box=None) -> np.ndarray:
    if not group:
        return np.zeros((latent.height, latent.width), np.uint8)
    if opts.schedule == "reference":
        return M.reference_latent(group, k, (render.width, render.height), opts.latent_scale)
    return M.fast_latent(group, k, (latent.width, latent.height), box=box)


def group_latent(group: M.MaskGroup, k: int, latent: Size, opts: Options) -> np.ndarray:
    """`latent_of` for a folded group: the reference from its sum of resized masks, the fast schedule from
    its union (the fast preprocessing binarises the union of a group first)."""
    if not group.count:
        return np.zeros((latent.height, latent.width), np.uint8)
    if group.resized is not None:
        return M.reference_latent_of_sum(group.resized, k, opts.latent_scale)
    return M.fast_latent([group.union()], k, (latent.width, latent.height))


def derive_regions(bg: BackgroundIR, layers: Sequence[LayerIR], canvas: Size, render: Size, latent: Size, opts: Options) -> dict[str, MaskData]:
    """Cut layers' masks join the background's removals here."""
    cw, ch = canvas.width, canvas.height
    long_side = max(cw, ch)
    out: dict[str, MaskData] = {}

    def cut(l: LayerIR) -> M.Crop:
        if bg.geometry:
            return M.Crop.of(map_through(l.mask_placed, bg.geometry))
        x0, y0, x1, y1 = l.box_placed  # where the object sits, no camera step to map it through: its box is enough
        return M.Crop((ch, cw), x0, y0, l.mask_placed[y0:y1, x0:x1])

    removes = bg.removes.plus(cut(l) for l in layers if l.cuts)
    remove_lat = group_latent(removes, K_REMOVE, latent, opts) | group_latent(bg.holes, K_PAN_ZOOM, latent, opts)
    out[N.REMOVE_LATENT] = MaskData(N.REMOVE_LATENT, remove_lat)
    if bg.refines.count:
        refine_lat = remove_lat | group_latent(bg.refines, K_REFINE, latent, opts)
        out[N.REFINE_LATENT] = MaskData(N.REFINE_LATENT, refine_lat)

    def canvas_dilated(group: M.MaskGroup, k: int) -> np.ndarray:
        if not group.count:
            return np.zeros((ch, cw), np.uint8)
        return M.grow(M.binary(group.union()), M.scaled_radius(k, long_side))

    def one_dilated(mask: np.ndarray, k: int) -> np.ndarray:
        return M.grow(M.binary(mask), M.scaled_radius(k, long_side))

    remove_canvas = np.maximum(canvas_dilated(removes, K_REMOVE), canvas_dilated(bg.holes, K_PAN_ZOOM))
    out[N.REMOVE_CANVAS] = MaskData(N.REMOVE_CANVAS, remove_canvas)

    edit = remove_canvas.copy()
    occluders, occluders_canvas = [], []
    r_layer_canvas = M.scaled_radius(K_LAYER, long_side)
    for l in layers:
        out[N.layer_latent(l.id)] = MaskData(N.layer_latent(l.id), latent_of([l.mask_frame], K_LAYER, render, latent, opts, l.box_frame))
        out[N.layer_canvas(l.id)] = MaskData(N.layer_canvas(l.id), np.ascontiguousarray(l.drawn_frame))
        shift_px = (nearest(l.applied_px[0]), nearest(l.applied_px[1]))
        crop, x0, y0 = M.dilated_crop(l.mask_frame, l.box_frame, r_layer_canvas)
        M.paste_max(edit, crop, x0 + shift_px[0], y0 + shift_px[1])
        if l.occluder_frame is not None:
            occ = M.shift_latent(latent_of([l.occluder_frame], K_OCCLUDE, render, latent, opts), l.dx, l.dy)
            out[N.occluder_latent(l.id)] = MaskData(N.occluder_latent(l.id), occ)
            occluders.append(occ)
            moved = M.shift(one_dilated(l.occluder_frame, K_OCCLUDE), *shift_px)
            occluders_canvas.append(moved)
            np.maximum(edit, moved, out=edit)
    if occluders:
        out[N.OCCLUDE_LATENT] = MaskData(N.OCCLUDE_LATENT, np.maximum.reduce(occluders))
        out[N.OCCLUDE_CANVAS] = MaskData(N.OCCLUDE_CANVAS, np.maximum.reduce(occluders_canvas))

    grow_px = M.scaled_kernel(EDIT_GROW, long_side)
    feather_px = M.scaled_kernel(EDIT_FEATHER, long_side)
    # grow by margin + feather, then a box blur as wide: every changed pixel stays at 255
    if edit.any():
        k = 2 * feather_px + 1
        edit = cv2.blur(M.grow(M.binary(edit), grow_px + feather_px), (k, k), borderType=cv2.BORDER_REPLICATE)
    out[N.EDIT_CANVAS] = MaskData(N.EDIT_CANVAS, edit)
    return out
