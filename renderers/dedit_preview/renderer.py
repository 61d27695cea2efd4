"""The preview renderer: the plan executed in pixel space, no model, no torch.

It shows the layout a diffusion render will have, in a fraction of a second:

1. the background image (with its pan / zoom-out recipe) at the canvas size;
2. `remove@canvas` filled by classical inpainting (OpenCV's Telea for thin holes such as text, a multigrid membrane fill for an object's blob), blended by
   the mask's soft edge;
3. each plan layer in paint order: its image (already resized / flipped /
   rotated about the mask centroid by the recipe) and its feathered
   `layer:<id>@canvas` mask, without the rim of the picture's own background
   that a grown or loose mask carries (`matte.py`; pictures with alpha keep
   theirs), shifted by the translation the SDXL path achieves
   (`PlanLayer.applied_px`, in whole pixels), composited over;
4. occlusion: `occlude@canvas` (the moved occluders), less what the layers
   cover, filled from its surroundings as a removal is: where the model
   inpaints a revealed part, the preview continues the object and its
   background smoothly instead of showing what lay there before;
5. unless paste-back is off, pixels outside `edit@canvas` are the source's.

It also returns the decomposition: `background` (inpainted, opaque) and
`layer:<id>` (moved layer, alpha = its matted mask), RGBA at the canvas size.
"""

from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

import cv2
import numpy as np

from designedit.imaging.blend import composite_over, paste_back
from designedit.imaging.geometry import nearest, shift  # shift: whole-pixel move, zero-filled (also this module's public name)
from designedit.plan import names
from designedit.plan.image_ops import LoadOp
from designedit.plan.ir import Plan, PlanImage, Size
from designedit.rendering.lru import LRU
from designedit.errors import DeditError
from designedit.rendering.protocol import LAYER_PREFIX, MaskRequest, RenderOptions, RenderResult

from .inpaint import inpaint
from .matte import matted_alpha

KEPT_IMAGES = 16  # materialised images kept across renders (watch mode), by recipe content key


class PreviewRenderer:
    name = "preview"

    def __init__(self, options: Optional[RenderOptions] = None) -> None:
        self.options = options or RenderOptions()
        self._images: LRU[tuple[str, int, int], np.ndarray] = LRU(KEPT_IMAGES)
        self._hits = 0

    def derive_masks(self, requests: Sequence[MaskRequest], progress=None) -> dict[tuple[str, str], np.ndarray]:
        """Attention maps a model derived before (the cache's latest of any model): the preview runs none."""
        from designedit.rendering import attention_cache
        from designedit.rendering.cache import Cache

        cache = Cache(self.options.cache_dir, self.options.cache_max_bytes)
        maps = {}
        for request in requests:
            found = attention_cache.get(cache, request)
            if found is None:
                raise DeditError(
                    f"mask {request.masks[0]!r} needs where the prompt's {request.word!r} draws a model's attention on "
                    f"{request.picture.name}, and the preview runs no model: render with --model, or run "
                    "`dedit masks SCENE --model M` first so the preview finds it in the cache.")
            maps[request.key] = found[0]
        return maps

    @property
    def latent_scale(self) -> int:
        # Plans are compiled as for SDXL's VAE so the preview shows the moves
        # SDXL will make (whole latent cells), rounding included.
        return 8

    def render(self, plan: Plan, progress: Optional[Callable[[int, int], None]] = None) -> RenderResult:
        started = time.perf_counter()
        self._hits = 0
        size = plan.canvas
        total = 2 + len(plan.layers)
        tick = progress or (lambda done, of: None)

        source = self._materialize(plan.image(plan.background), size)
        remove = plan.masks[names.REMOVE_CANVAS].data if names.REMOVE_CANVAS in plan.masks else None
        background = inpaint(source, remove) if remove is not None else source.copy()
        tick(1, total)

        picture = background.copy()
        layers: dict[str, np.ndarray] = {"background": _with_alpha(background, None)}
        covered = np.zeros((size.height, size.width), np.uint8)  # what the layers paint, for occlusion
        for n, layer in enumerate(plan.layers):
            plan_image = plan.image(layer.image)
            image = self._materialize(plan_image, size)
            mask = plan.masks[layer.mask_canvas].data
            if _opaque(plan_image):
                mask = matted_alpha(image, mask)
            dx, dy = (nearest(v) for v in layer.applied_px)  # as the compiler placed edit@canvas
            image, mask = shift(image, dx, dy), shift(mask, dx, dy)
            composite_over(picture, image, mask)
            np.maximum(covered, mask, out=covered)
            layers[LAYER_PREFIX + layer.id] = _with_alpha(image, mask)
            tick(2 + n, total)
        if names.OCCLUDE_CANVAS in plan.masks:
            # the revealed parts the model inpaints (method 10): the objects' pixels are kept
            hidden = np.where(covered >= 128, 0, plan.masks[names.OCCLUDE_CANVAS].data).astype(np.uint8)
            picture = inpaint(picture, hidden)

        if self.options.paste_back and plan.edit_region in plan.masks:
            picture = paste_back(picture, source, plan.masks[plan.edit_region].data)
        tick(total, total)
        return RenderResult(
            image=picture,
            layers=layers,
            stats={
                "renderer": self.name,
                "unet_evals": 0,
                "cache_hits": self._hits,  # images reused from an earlier render
                "seconds": round(time.perf_counter() - started, 4),
            },
        )


    def _materialize(self, image: PlanImage, size: Size) -> np.ndarray:
        """The image's pixels at `size`, reused while its recipe key (content included) is unchanged."""
        from designedit.plan.recipes import materialize

        key = (image.key, size.width, size.height)
        kept = self._images.get(key) if image.cacheable else None
        if kept is not None:
            self._hits += 1
            return kept
        pixels = _rgb(materialize(image, size))
        pixels.setflags(write=False)
        if image.cacheable:
            self._images[key] = pixels
        return pixels


def _opaque(image: PlanImage) -> bool:
    """Whether every picture the recipe draws is opaque (one with alpha carries its own matte)."""
    from designedit.imaging.files import has_alpha

    return not any(has_alpha(op.src) for op in image.ops if isinstance(op, LoadOp))


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(image[..., :3])


def _with_alpha(rgb: np.ndarray, alpha: Optional[np.ndarray]) -> np.ndarray:
    out = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2RGBA)  # alpha 255
    if alpha is not None:
        cv2.mixChannels([np.ascontiguousarray(alpha, dtype=np.uint8)], [out], [0, 3])
    return out
