"""Pass: the images to invert, as recipes (see `designedit.plan.recipes`).

The background recipe loads the picture and replays pan/zoom-out. A layer's
recipe loads its picture at (x, y) and applies its image-level affine. The
reference schedule inverts the background and every layer image separately,
as the authors do (ids `bg`, `layer:<id>`); the fast schedule keeps one image
per distinct recipe key (a plain move of a background object reuses `bg`).
"""

from __future__ import annotations

from designedit.plan.recipes import recipe_key
from designedit.plan import ImageOp, PlanImage, Size
from designedit.compiler.ir import BackgroundIR, LayerIR
from designedit.compiler.options import Options


def _frame(canvas: Size) -> ImageOp:
    return ImageOp("frame", {"width": canvas.width, "height": canvas.height})


def background_ops(bg: BackgroundIR, canvas: Size) -> list[ImageOp]:
    load = {"src": str(bg.src), "sha256": bg.sha256, "x": 0, "y": 0}
    if bg.extend:
        load["extend"] = True
    ops = [_frame(canvas), ImageOp("load", load)]
    for kind, args in bg.geometry:
        if kind == "pan":
            ops.append(ImageOp("pan", {"dx": args[0], "dy": args[1]}))
        else:
            # the reference truncates the shrunk size as the authors do; the fast recipe keeps its key
            ops.append(ImageOp("zoom-out", {"factor": args[0], "truncate": True} if args[1] else {"factor": args[0]}))
    return ops


def layer_ops(layer: LayerIR, canvas: Size) -> list[ImageOp]:
    ops = [_frame(canvas), ImageOp("load", {"src": str(layer.src), "sha256": layer.sha256, "x": layer.x, "y": layer.y})]
    if layer.matrix is not None:
        ops.append(ImageOp("affine", {"matrix": [round(float(v), 12) for v in layer.matrix.reshape(-1)]}))
    return ops


def plan_images(bg: BackgroundIR, layers: list[LayerIR], canvas: Size, opts: Options) -> tuple[list[PlanImage], dict[str, str]]:
    """(images, layer id -> image id)."""
    bg_ops = background_ops(bg, canvas)
    images = [PlanImage("bg", recipe_key(bg_ops), bg_ops)]
    by_key = {images[0].key: "bg"}
    of_layer: dict[str, str] = {}
    for layer in layers:
        ops = layer_ops(layer, canvas)
        key = recipe_key(ops)
        if opts.schedule == "fast" and key in by_key:
            of_layer[layer.id] = by_key[key]
            continue
        image_id = f"layer:{layer.id}"
        images.append(PlanImage(image_id, key, ops))
        by_key.setdefault(key, image_id)
        of_layer[layer.id] = image_id
    return images, of_layer
