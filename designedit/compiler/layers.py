"""Pass: resolve each layer's masks where its picture sits, and whether it cuts.

A layer's mask (or its picture's alpha when `mask` is left out) and its
occluder are in the layer picture's frame: rasterised at canvas size as if the
picture were at the origin, then shifted by the layer's (x, y), rounded to
whole pixels. A layer cuts when its image is the background's image (same id
or the same file) and `keep` is false.
"""

from __future__ import annotations

from pathlib import Path

from designedit import masks as M
from designedit.errors import SceneError
from designedit.imaging.files import file_sha256
from designedit.imaging.geometry import nearest
from designedit.model.scene import Scene, resolve_length
from designedit.checks.paths import resolve_reference
from designedit.imaging.pictures import load_alpha
from designedit.plan import Size
from designedit.compiler.ir import PlacedLayer
from designedit.compiler.located import fail, image_path, picture_at, place


def over_budget(scene: Scene, layer_id: str, at: tuple, budget: M.Budget, canvas: Size) -> SceneError:
    return fail(scene, f"layer {layer_id!r}", f"its masks bring the layers' masks past {M.amount(budget.limit)} on the "
                f"{canvas.width}x{canvas.height} canvas: use fewer or smaller layers, or a smaller canvas", at)


def place_layers(scene: Scene, canvas: Size, resolver: M.MaskResolver, drawn: M.MaskResolver,
                 budget: M.Budget) -> list[PlacedLayer]:
    """`drawn`: the resolver of the masks drawn on the canvas, when `resolver` is another (the reference's
    grey mask pictures). `budget`: what the layers' canvas-size masks may take (refused at the layer that
    passes it), charged here."""
    w, h = canvas.width, canvas.height
    bg_image = scene.image(scene.background.image)
    bg_path = resolve_reference(scene.origin, bg_image.src, place(scene, image_path(scene, bg_image.id)))
    out: list[PlacedLayer] = []
    paths: dict[str, Path] = {}  # resolving follows symlinks: once per image
    for index, layer in enumerate(scene.layers, start=1):
        where = f"layer {layer.id!r}"
        at = ("layers", index - 1)
        image = scene.image(layer.image)
        if image.id not in paths:
            paths[image.id] = resolve_reference(scene.origin, image.src, place(scene, image_path(scene, image.id)))
        path = paths[image.id]
        x = nearest(resolve_length(layer.x, w))
        y = nearest(resolve_length(layer.y, h))
        canvas_mask = None
        if layer.mask is not None:  # mask pictures are scaled to the layer's image
            mask = resolver.crop(layer.mask, image.id).moved(x, y).full()
            if drawn is not resolver:
                canvas_mask = drawn.crop(layer.mask, image.id).moved(x, y).full()
        else:
            with picture_at(scene, at, where):
                alpha = load_alpha(path)
            if alpha is None:
                raise fail(scene, where, f"has no mask and its image {image.id!r} has no transparency to use as one", at)
            mask = M.place(alpha, w, h, x, y)
        box = M.bbox(mask)
        if box is None or not (mask[box[1] : box[3], box[0] : box[2]] >= 128).any():
            raise fail(scene, where, "its mask selects nothing, so there is no object to place", at)
        occluder = None
        if layer.occluder is not None:
            occluder = resolver.crop(layer.occluder, image.id).moved(x, y).full()
        if not (budget.charge_rows(mask, box) and budget.charge_rows(canvas_mask) and budget.charge_rows(occluder)):
            raise over_budget(scene, layer.id, at, budget, canvas)
        cuts = not layer.keep and (layer.image == bg_image.id or path == bg_path)
        out.append(
            PlacedLayer(
                id=layer.id,
                index=index,
                src=path,
                sha256=file_sha256(path),
                x=x,
                y=y,
                cuts=cuts,
                mask_placed=mask,
                box_placed=box,
                occluder_placed=occluder,
                canvas_placed=canvas_mask,
            )
        )
    return out
