"""Pass: the images to invert, as recipes (see `designedit.plan.recipes`).

The background recipe loads the picture and replays pan/zoom-out. A layer's
recipe loads its picture at (x, y) and applies its image-level affine. The
reference schedule inverts the background and every layer image separately,
as the authors do (ids `bg`, `layer:<id>`); the fast schedule keeps one image
per distinct recipe key (a plain move of a background object reuses `bg`).
"""

from __future__ import annotations

from designedit.plan import names
from designedit.plan.image_ops import AffineOp, FrameOp, ImageOp, LoadOp, PanOp, ZoomOutOp
from designedit.plan.ir import PlanImage, Size
from designedit.plan.recipes import recipe_key
from designedit.compiler.ir import BackgroundIR, LayerIR
from designedit.compiler.options import Options


def _frame(canvas: Size) -> FrameOp:
    return FrameOp(canvas.width, canvas.height)


def background_ops(bg: BackgroundIR, canvas: Size) -> list[ImageOp]:
    ops: list[ImageOp] = [_frame(canvas), LoadOp(str(bg.src), bg.sha256, 0, 0, extend=bool(bg.extend))]
    for kind, args in bg.geometry:
        if kind == "pan":
            ops.append(PanOp(args[0], args[1]))
        else:
            # the reference truncates the shrunk size as the authors do (`truncate` is written only when
            # true, so the fast recipe keeps its key)
            ops.append(ZoomOutOp(args[0], truncate=bool(args[1])))
    return ops


def layer_ops(layer: LayerIR, canvas: Size) -> list[ImageOp]:
    ops: list[ImageOp] = [_frame(canvas), LoadOp(str(layer.src), layer.sha256, layer.x, layer.y)]
    if layer.matrix is not None:
        ops.append(AffineOp(tuple(round(float(v), 12) for v in layer.matrix.reshape(-1))))
    return ops


def plan_images(bg: BackgroundIR, layers: list[LayerIR], canvas: Size, opts: Options) -> tuple[list[PlanImage], dict[str, str]]:
    """(images, layer id -> image id)."""
    bg_ops = background_ops(bg, canvas)
    images = [PlanImage(names.BACKGROUND, recipe_key(bg_ops), bg_ops)]
    by_key = {images[0].key: names.BACKGROUND}
    of_layer: dict[str, str] = {}
    for layer in layers:
        ops = layer_ops(layer, canvas)
        key = recipe_key(ops)
        if opts.schedule == "fast" and key in by_key:
            of_layer[layer.id] = by_key[key]
            continue
        image_id = names.layer_image(layer.id)
        images.append(PlanImage(image_id, key, ops))
        by_key.setdefault(key, image_id)
        of_layer[layer.id] = image_id
    return images, of_layer
