"""The preview renderer: the plan executed in pixel space, no model, no torch.

It shows the layout a diffusion render will have, in a fraction of a second:

1. the background image (with its pan / zoom-out recipe) at the canvas size;
2. `remove@canvas` filled by classical inpainting (OpenCV, Telea), blended by
   the mask's soft edge;
3. each plan layer in paint order: its image (already resized / flipped /
   rotated about the mask centroid by the recipe) and its feathered
   `layer:<id>@canvas` mask, shifted by the translation the SDXL path
   achieves (`PlanLayer.applied_px`, in whole pixels), composited over;
4. unless paste-back is off, pixels outside `edit@canvas` are the source's.

It also returns the decomposition: `background` (inpainted, opaque) and
`layer:<id>` (moved layer, alpha = its mask), RGBA at the canvas size.
Occluded parts of a layer are not invented: the preview has no model.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import cv2
import numpy as np

from designedit.plan import Plan
from designedit.renderer import RenderOptions, RenderResult

from .inpaint import inpaint

LAYER_PREFIX = "layer:"


class PreviewRenderer:
    name = "preview"

    def __init__(self, options: Optional[RenderOptions] = None) -> None:
        self.options = options or RenderOptions()

    @classmethod
    def available(cls, options: RenderOptions) -> tuple[bool, str]:
        return True, "the preview needs no model"

    @property
    def latent_scale(self) -> int:
        # Plans are compiled as for SDXL's VAE so the preview shows the moves
        # SDXL will make (whole latent cells), rounding included.
        return 8

    def render(self, plan: Plan, progress: Optional[Callable[[int, int], None]] = None) -> RenderResult:
        from designedit.images import materialize

        started = time.perf_counter()
        size = plan.canvas
        total = 2 + len(plan.layers)
        tick = progress or (lambda done, of: None)

        source = _rgb(materialize(plan.image(plan.background), size))
        remove = plan.masks["remove@canvas"].data if "remove@canvas" in plan.masks else None
        background = inpaint(source, remove) if remove is not None else source.copy()
        tick(1, total)

        out = background.astype(np.float32)
        layers: dict[str, np.ndarray] = {"background": _with_alpha(background, None)}
        for n, layer in enumerate(plan.layers):
            image = _rgb(materialize(plan.image(layer.image), size))
            mask = plan.masks[layer.mask_canvas].data
            dx, dy = (int(round(v)) for v in layer.applied_px)
            image, mask = shift(image, dx, dy), shift(mask, dx, dy)
            alpha = mask.astype(np.float32)[..., None] * (1.0 / 255.0)
            out = out * (1.0 - alpha) + image.astype(np.float32) * alpha
            layers[LAYER_PREFIX + layer.id] = _with_alpha(image, mask)
            tick(2 + n, total)

        picture = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        if self.options.paste_back and plan.edit_region in plan.masks:
            picture = paste_back(picture, source, plan.masks[plan.edit_region].data)
        tick(total, total)
        return RenderResult(
            image=picture,
            layers=layers,
            stats={
                "renderer": self.name,
                "unet_evals": 0,
                "cache_hits": 0,
                "seconds": round(time.perf_counter() - started, 4),
            },
        )


def shift(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """`a` moved by (dx, dy) whole pixels (+ right, + down); uncovered pixels are zero."""
    h, w = a.shape[:2]
    out = np.zeros_like(a)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[dst_y, dst_x] = a[src_y, src_x]
    return out


def paste_back(picture: np.ndarray, source: np.ndarray, edit: np.ndarray) -> np.ndarray:
    """picture * e + source * (1 - e), e = edit / 255: exact source pixels where e is 0."""
    e = edit.astype(np.float32)[..., None] * (1.0 / 255.0)
    mixed = picture.astype(np.float32) * e + source.astype(np.float32) * (1.0 - e)
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(image[..., :3])


def _with_alpha(rgb: np.ndarray, alpha: Optional[np.ndarray]) -> np.ndarray:
    a = np.full(rgb.shape[:2], 255, np.uint8) if alpha is None else alpha.astype(np.uint8)
    return np.dstack([rgb, a])
