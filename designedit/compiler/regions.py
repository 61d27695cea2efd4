"""Pass: the masks the plan carries, at canvas and latent resolution.

- `remove@latent`: removes and cut layers' original masks (dilation 20 at
  1024 px) OR pan/zoom/outpaint holes (dilation 30), each group through the
  schedule's preprocessing (`masks.reference_latent` or `masks.fast_latent`).
- `refine@latent` (when some remove has a refine mask): remove OR refine
  (the refine mask undilated: it marks what to suppress, not a hole).
- `layer:<id>@latent`: the layer mask in its frame (after the image-level
  transform, before the move), dilation 10; `layer:<id>@canvas` the same mask
  undilated at canvas size (feathered values kept).
- `occlude:<id>@latent`: the occluder after the layer's image-level transform,
  dilation 20, shifted by the layer's latent move; `occlude@latent` the union.
- `remove@canvas`: the removal region at canvas size (centred dilations scaled
  to the canvas), what a pixel preview inpaints.
- `edit@canvas`: everything that may change (removal region, each layer's
  destination, moved occluders), grown and feathered: paste-back keeps the rest.
"""

from __future__ import annotations

import numpy as np

from .. import masks as M
from ..plan import MaskData, Size
from .context import EDIT_FEATHER, EDIT_GROW, K_LAYER, K_OCCLUDE, K_PAN_ZOOM, K_REMOVE, BackgroundIR, LayerIR, Options


def latent_of(group: list[np.ndarray], k: int, render: Size, latent: Size, opts: Options) -> np.ndarray:
    if not group:
        return np.zeros((latent.height, latent.width), np.uint8)
    if opts.schedule == "reference":
        return M.reference_latent(group, k, (render.width, render.height), opts.latent_scale)
    return M.fast_latent(group, k, (latent.width, latent.height))


def derive_regions(bg: BackgroundIR, layers: list[LayerIR], canvas: Size, render: Size, latent: Size, opts: Options, map_cut) -> dict[str, MaskData]:
    cw, ch = canvas.width, canvas.height
    long_side = max(cw, ch)
    out: dict[str, MaskData] = {}

    removals = list(bg.removes) + [map_cut(l.mask_placed) for l in layers if l.cuts]
    remove_lat = latent_of(removals, K_REMOVE, render, latent, opts) | latent_of(bg.holes, K_PAN_ZOOM, render, latent, opts)
    out["remove@latent"] = MaskData("remove@latent", remove_lat)
    if bg.refines:
        refine_lat = remove_lat | latent_of(bg.refines, 0, render, latent, opts)
        out["refine@latent"] = MaskData("refine@latent", refine_lat)

    def canvas_dilated(group: list[np.ndarray], k: int) -> np.ndarray:
        if not group:
            return np.zeros((ch, cw), np.uint8)
        return M.dilate_centred(M.union((M.binary(m) for m in group), (ch, cw)), M.scaled_kernel(k, long_side))

    remove_canvas = np.maximum(canvas_dilated(removals, K_REMOVE), canvas_dilated(bg.holes, K_PAN_ZOOM))
    out["remove@canvas"] = MaskData("remove@canvas", remove_canvas)

    changed = [remove_canvas]
    occluders = []
    k_layer_canvas = M.scaled_kernel(K_LAYER, long_side)
    for l in layers:
        out[f"layer:{l.id}@latent"] = MaskData(f"layer:{l.id}@latent", latent_of([l.mask_frame], K_LAYER, render, latent, opts))
        out[f"layer:{l.id}@canvas"] = MaskData(f"layer:{l.id}@canvas", np.ascontiguousarray(l.mask_frame))
        shift_px = (int(round(l.applied_px[0])), int(round(l.applied_px[1])))
        changed.append(M.shift(M.dilate_centred(M.binary(l.mask_frame), k_layer_canvas), *shift_px))
        if l.occluder_frame is not None:
            occ = M.shift_latent(latent_of([l.occluder_frame], K_OCCLUDE, render, latent, opts), l.dx, l.dy)
            out[f"occlude:{l.id}@latent"] = MaskData(f"occlude:{l.id}@latent", occ)
            occluders.append(occ)
            changed.append(M.shift(canvas_dilated([l.occluder_frame], K_OCCLUDE), *shift_px))
    if occluders:
        out["occlude@latent"] = MaskData("occlude@latent", np.maximum.reduce(occluders))

    grow_px = M.scaled_kernel(EDIT_GROW, long_side)
    feather_px = M.scaled_kernel(EDIT_FEATHER, long_side)
    edit = M.union(changed, (ch, cw))
    # grow by margin + feather, then blur by feather: every changed pixel stays at 255
    edit = M.feather(M.grow(M.binary(edit), grow_px + feather_px), feather_px) if edit.any() else edit
    out["edit@canvas"] = MaskData("edit@canvas", edit)
    return out
