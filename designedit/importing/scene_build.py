"""A comp becomes a scene: which layer is what (spec/import.md, Conventions), the pictures it needs, and
the scene in the JSON shape of the model.

The bottom-most visible layer, or the one named `background`, is the background picture; layers named
`remove...` and `refine...` are masks for a removal; every other layer is an object found in the background
(a layer of the background's image with a mask where it was found and the transforms that take it where
it is in the comp) or, when it is not found, new artwork composed from its own pixels at its offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from designedit.importing.comp import Comp, CompLayer, layer_location, refuse
from designedit.importing.matching import Match, find_in_background
from designedit.importing.naming import Ids

if TYPE_CHECKING:
    import numpy as np

FORMAT_VERSION = "1.0"  # what the import writes needs nothing newer (a uniform resize, a flip, a move)


@dataclass
class Placed:
    """What became of one comp layer, for the summary the command prints."""

    path: str
    id: str
    what: str  # "object", "copy", "artwork", "remove", "refine", "background", "ignored"
    match: Optional[Match] = None
    move: Optional[tuple[float, float]] = None


@dataclass
class Built:
    scene: dict  # the model's JSON shape
    pictures: dict[str, "np.ndarray"]  # file name inside the pictures folder -> pixels (RGB, RGBA or grey)
    placed: list[Placed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def build_scene(comp: Comp, pictures_ref: str, progress: Optional[Callable[[int, int], None]] = None) -> Built:
    """The scene for `comp`; its file references are `pictures_ref/NAME` (relative to the scene). `progress`
    (done, total) is told of each layer looked at (searching one takes a fraction of a second)."""
    import numpy as np

    if not comp.layers:
        raise refuse(comp.label, "the comp has no visible layer with pixels")
    bg_index = next((i for i, layer in enumerate(comp.layers) if layer.name.strip().lower() == "background"), 0)
    warnings = list(comp.warnings)
    placed: list[Placed] = []
    bg_layer = comp.layers[bg_index]
    for below in comp.layers[:bg_index]:
        warnings.append(f"{layer_location(comp.label, below.path)}: it lies under the background layer, which hides it; it is ignored")
        placed.append(Placed(below.path, "", "ignored"))
    background, uncovered = _on_canvas(bg_layer, comp.width, comp.height)
    _note_blend(comp.label, bg_layer, warnings)
    pictures: dict[str, Any] = {"background.png": background}
    placed.append(Placed(bg_layer.path, "background", "background"))
    if uncovered.any():
        warnings.append(f"{layer_location(comp.label, bg_layer.path)}: it does not cover the whole canvas; the rest is left to be painted in (removed)")

    ids = Ids()
    images = [{"id": "background", "src": f"{pictures_ref}/background.png"}]
    masks: list[dict] = []
    layers: list[dict] = []
    remove = uncovered.astype(np.uint8) * 255 if uncovered.any() else None
    refine = None
    tick = progress or (lambda done, total: None)
    above = comp.layers[bg_index + 1 :]
    for done, layer in enumerate(above):
        tick(done, len(above))
        lowered = layer.name.strip().lower()
        if lowered.startswith("remove") or lowered.startswith("refine"):
            values = _mask_on_canvas(layer, comp.width, comp.height)
            if lowered.startswith("remove"):
                remove = values if remove is None else np.maximum(remove, values)
            else:
                refine = values if refine is None else np.maximum(refine, values)
            placed.append(Placed(layer.path, "remove" if lowered.startswith("remove") else "refine", lowered[:6]))
            continue
        if int(layer.rgba[..., 3].max()) == 0:
            warnings.append(f"{layer_location(comp.label, layer.path)}: it paints nothing (every pixel is transparent); it is ignored")
            continue
        _note_blend(comp.label, layer, warnings)
        layer_id = ids.make(layer.name)
        match = find_in_background(layer.rgba, background)
        if match is not None and match.found:
            mask, element, move = _object(layer, match, layer_id, comp.width, comp.height)
            pictures[f"{layer_id}-mask.png"] = mask
            masks.append({"id": layer_id, "src": f"{pictures_ref}/{layer_id}-mask.png"})
            layers.append(element)
            placed.append(Placed(layer.path, layer_id, "copy" if element.get("keep") else "object", match, move))
        else:
            pictures[f"{layer_id}.png"] = layer.rgba
            images.append({"id": layer_id, "src": f"{pictures_ref}/{layer_id}.png"})
            element = {"id": layer_id, "image": layer_id}
            if layer.x:
                element["x"] = layer.x
            if layer.y:
                element["y"] = layer.y
            layers.append(element)
            placed.append(Placed(layer.path, layer_id, "artwork", match))

    tick(len(above), len(above))
    edits: list[dict] = []
    if refine is not None and remove is None:
        warnings.append(f"{comp.label}: a refine layer needs a remove layer to refine; it is ignored")
        refine = None
    if remove is not None:
        if not (remove >= 128).any():
            warnings.append(f"{comp.label}: the remove layers select nothing (no pixel at half strength or more); nothing is removed")
        else:
            pictures["remove.png"] = remove
            masks.append({"id": "remove", "src": f"{pictures_ref}/remove.png"})
            edit = {"op": "remove", "mask": "remove"}
            if refine is not None:
                pictures["refine.png"] = refine
                masks.append({"id": "refine", "src": f"{pictures_ref}/refine.png"})
                edit["refine"] = "refine"
            edits.append(edit)
    scene: dict = {"dedit": FORMAT_VERSION}
    if images:
        scene["images"] = images
    if masks:
        scene["masks"] = masks
    scene["background"] = {"image": "background", **({"edits": edits} if edits else {})}
    if layers:
        scene["layers"] = layers
    return Built(scene, pictures, placed, warnings)


def _on_canvas(layer: CompLayer, width: int, height: int) -> tuple["np.ndarray", "np.ndarray"]:
    """The background layer's RGB on the canvas (black where it does not reach), and where it does not
    (alpha under one half)."""
    import numpy as np

    rgba = np.zeros((height, width, 4), np.uint8)
    _paste(rgba, layer.rgba, layer.x, layer.y)
    return np.ascontiguousarray(rgba[..., :3]), rgba[..., 3] < 128


def _mask_on_canvas(layer: CompLayer, width: int, height: int) -> "np.ndarray":
    """A remove/refine layer as mask values on the canvas: its alpha, or its luminance when it is opaque
    (painted in black and white on an opaque layer)."""
    import numpy as np

    alpha = layer.rgba[..., 3]
    if int(alpha.min()) == 255:
        rgb = layer.rgba[..., :3].astype(np.float32)
        values = np.clip(np.rint(rgb @ np.array([0.299, 0.587, 0.114], np.float32)), 0, 255).astype(np.uint8)
    else:
        values = alpha
    out = np.zeros((height, width), np.uint8)
    _paste(out, values, layer.x, layer.y)
    return out


def _paste(dst: "np.ndarray", src: "np.ndarray", x: int, y: int) -> None:
    """Copy `src` into `dst` with its top-left corner at (x, y), clipped to `dst`."""
    h, w = src.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(dst.shape[1], x + w), min(dst.shape[0], y + h)
    if x1 > x0 and y1 > y0:
        dst[y0:y1, x0:x1] = src[y0 - y : y1 - y, x0 - x : x1 - x]


def _centroid(values: "np.ndarray") -> tuple[float, float]:
    """The centroid of what a mask selects (value >= 128), as the compiler takes it (spec/format.md 5.6)."""
    import numpy as np

    ys, xs = np.nonzero(values >= 128)
    return float(xs.mean()), float(ys.mean())


def _object(layer: CompLayer, match: Match, layer_id: str, width: int, height: int) -> tuple["np.ndarray", dict, tuple]:
    """The mask where the layer was found (its alpha warped back) and its scene layer: resize, flip, then
    the move that takes the mask's centroid to the comp layer's."""
    import cv2
    import numpy as np

    alpha = layer.rgba[..., 3]
    exact = match.scale == 1.0  # whole pixels: the mask is the alpha itself, moved (and mirrored)
    flags = cv2.INTER_NEAREST if exact else cv2.INTER_LINEAR
    mask = cv2.warpAffine(alpha, match.matrix, (width, height), flags=flags, borderValue=0)
    lx, ly = _centroid(alpha)
    mx, my = _centroid(mask)
    dx, dy = layer.x + lx - mx, layer.y + ly - my
    move = (_number(dx), _number(dy))
    transforms: list[dict] = []
    if not exact:
        transforms.append({"op": "resize", "scale": round(match.scale, 4)})
    if match.flip:
        transforms.append({"op": "flip", "axis": match.flip})
    if move != (0, 0):
        transforms.append({"op": "move", "dx": move[0], "dy": move[1]})
    element: dict = {"id": layer_id, "image": "background", "mask": layer_id}
    if "copy" in layer.name.lower():
        element["keep"] = True
    if transforms:
        element["transforms"] = transforms
    return mask, element, move


def _number(value: float) -> float | int:
    """Whole pixels when within 1/100 of one (a drag is whole pixels), else two decimals."""
    nearest = round(value)
    return int(nearest) if abs(value - nearest) < 0.01 else round(value, 2)


def _note_blend(label: str, layer: CompLayer, warnings: list[str]) -> None:
    where = layer_location(label, layer.path)
    if layer.blend:
        warnings.append(f"{where}: its blend mode is {layer.blend}, which a scene cannot say; it is imported as normal")
    if layer.opacity < 0.995:
        warnings.append(f"{where}: its opacity is {round(layer.opacity * 100)}%, which a scene cannot say; it is imported fully opaque")
