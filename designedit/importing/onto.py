"""`dedit import STACK.ora --onto SCENE`: the nudges made in a design program to a `dedit render --layers`
stack come back to the scene as the smallest textual change (io.patch): each moved layer's move is adjusted,
nothing else changes; an unchanged stack leaves the scene byte-identical (it is not even written).

A layer's nudge is where its visible pixels are now (its offset plus the first opaque row and column of its
picture, so a program that crops layers differently changes nothing) minus where the render put them. The
render records that in stack.xml (`dedit:x`, `dedit:y`, spec/import.md); a program that rewrites stack.xml
drops those, and then the place is found again from the scene: compiled as the renderers compile it (whole
latent cells of 8 pixels, SDXL's), each layer's landed mask is aligned with the stack's layer (whole pixels,
best overlap).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, TYPE_CHECKING

from designedit.errors import DeditError, DestinationError
from designedit.importing.comp import layer_location
from designedit.model.quoting import quote

if TYPE_CHECKING:
    import numpy as np

BACKGROUND = "background"  # the name rendering.ora gives the inpainted background


def import_onto(stack_path: Path, scene_path: Path, on_commit: Optional[Callable[[], None]] = None,
                notes: Optional[list[str]] = None) -> list[str]:
    """Apply the stack's nudges to the scene file in place; one line per layer moved (none: unchanged).
    `notes` receives warnings (layers the scene does not have, a moved background)."""
    from designedit.importing import _head
    from designedit.importing.comp import refuse
    from designedit.importing.ora_reader import layer_pixels, open_archive, read_stack
    from designedit.io import patch
    from designedit.io.scene_file import read_scene_text, write_if_unchanged
    from designedit.rendering.atomic import why_unwritable

    stack_path, scene_path = Path(stack_path), Path(scene_path)
    label = str(stack_path)
    notes = notes if notes is not None else []
    text = read_scene_text(scene_path)
    scene = patch.read_scene(text, None, str(scene_path))
    why = why_unwritable(scene_path)
    if why is not None:
        raise DestinationError(f"cannot write {scene_path}: {why}")
    if not _head(stack_path, label).startswith(b"PK"):
        raise refuse(label, "--onto reads an OpenRaster stack (as `dedit render --layers` writes), and this is not one")
    ids = [layer.id for layer in scene.layers]
    now: dict[str, tuple[int, int]] = {}
    recorded: dict[str, tuple[int, int]] = {}
    unrecorded: dict[str, tuple["np.ndarray", int, int]] = {}
    with open_archive(stack_path, label) as archive:
        width, height, entries = read_stack(archive, label)
        for entry in entries:
            if not entry.visible:
                continue
            if entry.name == BACKGROUND:
                continue
            if entry.name not in ids:
                notes.append(f"{layer_location(label, entry.path)}: the scene has no layer {quote(entry.name)}; it is ignored")
                continue
            rgba = layer_pixels(archive, entry, label)
            box = _box(rgba[..., 3])
            if box is None:
                notes.append(f"{layer_location(label, entry.path)}: it has no visible pixels; its layer is left as it is")
                continue
            now[entry.name] = (entry.x + box[0], entry.y + box[1])
            if entry.recorded is not None:
                recorded[entry.name] = entry.recorded
            else:
                unrecorded[entry.name] = (rgba, entry.x, entry.y)
    nudges = {name: (now[name][0] - at[0], now[name][1] - at[1]) for name, at in recorded.items()}
    if unrecorded:
        nudges.update(_found_again(scene_path, unrecorded, width, height, label))
    new, lines = text, []
    for layer_id in ids:
        dx, dy = nudges.get(layer_id, (0, 0))
        if dx or dy:
            new = patch.move_layer(new, None, layer_id, dx, dy, source=str(scene_path))
            lines.append(f"{layer_id}: moved {dx:+d},{dy:+d}")
    if new != text:
        if on_commit is not None:
            on_commit()
        if not write_if_unchanged(scene_path, text, new):
            raise DeditError(f"{scene_path} changed while the stack was read; nothing was written (run the import again)")
    return lines


def _box(alpha: "np.ndarray") -> Optional[tuple[int, int]]:
    import numpy as np

    ys, xs = np.nonzero(alpha)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min())


def _found_again(scene_path: Path, layers: dict, width: int, height: int, label: str) -> dict[str, tuple[int, int]]:
    """Nudges of layers whose render place was not recorded: each layer's landed mask, from the scene
    compiled as the renderers compile it, aligned with its pixels in the stack."""
    import numpy as np

    from designedit.compiler import compile_scene
    from designedit.imaging.geometry import nearest, shift
    from designedit.importing.comp import refuse
    from designedit.io import load

    plan = compile_scene(load(scene_path), latent_scale=8)
    if (plan.canvas.width, plan.canvas.height) != (width, height):
        raise refuse(label, f"the stack is {width}x{height} pixels but the scene's canvas is "
                     f"{plan.canvas.width}x{plan.canvas.height}; it is not this scene's stack")
    out = {}
    for layer in plan.layers:
        if layer.id not in layers or layer.mask_canvas not in plan.masks:
            continue
        rgba, x, y = layers[layer.id]
        dx, dy = (nearest(v) for v in layer.applied_px)
        predicted = shift(plan.masks[layer.mask_canvas].data, dx, dy).astype(np.float32)
        placed = np.zeros((height, width), np.float32)
        _paste(placed, rgba[..., 3].astype(np.float32), x, y)
        out[layer.id] = _alignment(placed, predicted)
    return out


def _alignment(placed: "np.ndarray", predicted: "np.ndarray") -> tuple[int, int]:
    """The whole-pixel shift that takes `predicted` onto `placed`: from their centroids, then the smallest
    difference (sum of absolute differences) within 2 pixels of that (the preview mattes edges, which moves
    a centroid a little; an overlap would tie wherever the mask covers the matted alpha)."""
    import numpy as np

    from designedit.imaging.geometry import shift

    def centroid(values):
        ys, xs = np.nonzero(values >= 128)
        return (xs.mean(), ys.mean()) if len(xs) else (0.0, 0.0)

    (px, py), (qx, qy) = centroid(placed), centroid(predicted)
    start = (round(px - qx), round(py - qy))
    scored = []
    for ddy in range(-2, 3):
        for ddx in range(-2, 3):
            cand = (start[0] + ddx, start[1] + ddy)
            scored.append((float(np.abs(placed - shift(predicted, *cand)).sum()), abs(ddx) + abs(ddy), cand))
    return min(scored)[2]


def _paste(dst, src, x: int, y: int) -> None:
    h, w = src.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(dst.shape[1], x + w), min(dst.shape[0], y + h)
    if x1 > x0 and y1 > y0:
        dst[y0:y1, x0:x1] = src[y0 - y : y1 - y, x0 - x : x1 - x]
