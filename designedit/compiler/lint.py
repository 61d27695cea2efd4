"""Pass: what compiles but is probably not what the author meant (plan warnings).

Nothing here refuses a scene: the format allows each case (spec/format.md 4),
and a design tool may write them on purpose. A warning is one sentence that
names the element and what will happen, printed by `dedit plan`, `render`
and `watch`.

- A mask picture (its own, or one reached through `use`) whose size differs
  from the picture it masks: mask pictures are placed at the origin unscaled,
  so a mask drawn for a resized copy of the picture selects the wrong pixels.
- A layer whose object ends up entirely outside the canvas: it adds nothing
  (a cut still removes the object from the background).
- A removal whose mask selects nothing on the canvas (after grow, invert and
  the camera's moves): nothing is removed there; or only faint pixels, below
  half strength, which the fast schedule drops and the reference reads (its
  inpainting there is then undone by paste-back). (A layer's empty mask is an
  error instead: there is no object.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .. import masks as M
from ..errors import SceneError
from ..model import Remove, Scene
from ..paths import resolve_reference
from ..pictures import PictureError, picture_size
from ..plan import Size
from .context import BackgroundIR, LayerIR, image_path, place


def lint(scene: Scene, layers: list[LayerIR], canvas: Size, bg: Optional[BackgroundIR] = None) -> list[str]:
    return _mask_sizes(scene) + (_empty_removals(scene, bg) if bg is not None else []) + _off_canvas(layers, canvas)


def _empty_removals(scene: Scene, bg: BackgroundIR) -> list[str]:
    removes = [edit for edit in scene.background.edits if isinstance(edit, Remove)]
    out = []
    for edit, mask in zip(removes, bg.removes):
        if not mask.any():
            out.append(f"the background's remove of mask {edit.mask!r} selects nothing on the canvas: nothing is removed there")
        elif not (mask >= 128).any():  # the reference reads grey values: faint pixels still key its latent mask
            out.append(f"the background's remove of mask {edit.mask!r} selects no pixel at half strength or more: the "
                       "reference schedule inpaints its faint pixels, and paste-back puts the source back over them")
    return out


def _mask_sizes(scene: Scene) -> list[str]:
    sizes: dict[str, tuple[int, int] | None] = {}

    def size_of(kind: str, item_id: str, src: str) -> tuple[int, int] | None:
        key = f"{kind}:{item_id}"
        if key not in sizes:
            try:
                at = place(scene, image_path(scene, item_id)) if kind == "image" else f"mask {item_id!r}"
                sizes[key] = picture_size(Path(resolve_reference(scene.origin, src, at)))
            except (PictureError, SceneError, OSError, ValueError):
                sizes[key] = None  # reported elsewhere if it matters
        return sizes[key]

    pairs: list[tuple[str, str, str]] = []  # (mask id, image id, who uses it)
    for layer in scene.layers:
        if layer.mask is not None:
            pairs.append((layer.mask, layer.image, f"layer {layer.id!r}"))
        if layer.occluder is not None:
            pairs.append((layer.occluder, layer.image, f"layer {layer.id!r} (occluder)"))
    for edit in scene.background.edits:
        for mask_id in (getattr(edit, "mask", None), getattr(edit, "refine", None)):
            if mask_id is not None:
                pairs.append((mask_id, scene.background.image, "the background"))

    out: list[str] = []
    seen: set[tuple[str, str]] = set()
    for used_id, image_id, who in pairs:
        image = scene.image(image_id)
        for mask_id in _with_used(scene, used_id):  # a picture reached through `use` is placed the same way
            mask = scene.mask(mask_id)
            if mask.src is None or (mask_id, image_id) in seen:
                continue
            seen.add((mask_id, image_id))
            m, i = size_of("mask", mask_id, mask.src), size_of("image", image_id, image.src)
            if m is not None and i is not None and m != i:
                via = "" if mask_id == used_id else f" (through mask {used_id!r})"
                out.append(
                    f"mask {mask_id!r} ({m[0]}x{m[1]}) is not the size of image {image_id!r} ({i[0]}x{i[1]}) "
                    f"that {who} masks with it{via}: it is placed at the picture's top-left, unscaled"
                )
    return out


def _with_used(scene: Scene, mask_id: str) -> list[str]:
    """The mask and every mask its `use` shapes reach, each once (the reader refused cycles already)."""
    order, stack = [], [mask_id]
    while stack:
        current = stack.pop()
        if current in order:
            continue
        order.append(current)
        stack.extend(s.mask for s in reversed(scene.mask(current).shapes) if getattr(s, "shape", None) == "use")
    return order


def _off_canvas(layers: list[LayerIR], canvas: Size) -> list[str]:
    out = []
    for l in layers:
        # what is drawn (the reference's grey mask pictures can reach farther with faint values)
        box = l.box_frame if l.canvas_frame is None else M.bbox(l.drawn_frame)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        dx, dy = l.applied_px
        if x1 + dx <= 0 or y1 + dy <= 0 or x0 + dx >= canvas.width or y0 + dy >= canvas.height:
            what = "its cut still removes the object from the background" if l.cuts else "it changes nothing"
            out.append(f"layer {l.id!r} ends up entirely outside the {canvas.width}x{canvas.height} canvas: {what}")
    return out
