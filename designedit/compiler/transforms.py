"""Pass: fold each layer's transforms, and round its translation to latent cells.

resize/flip/rotate act about the current centroid of the layer mask; a move
translates. A linear map about the current centroid keeps the centroid fixed,
so any sequence folds to one linear map A about the original centroid c
(image level, before inversion: `M = [A | c - A c]`) followed by the total
translation t (latent space, whole cells). Rotation is clockwise on screen
(y down). Rounding: reference truncates render-pixels / latent_scale toward
zero (method 12), fast rounds to nearest; the remainder is reported.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from designedit.checks import limits
from designedit import masks as M
from designedit.imaging import warp
from designedit.imaging.geometry import nearest
from designedit.model.scene import Flip, Layer, Move, Resize, Rotate, Scene, resolve_length
from designedit.plan import Size
from designedit.compiler.ir import LayerIR, PlacedLayer
from designedit.compiler.layers import over_budget
from designedit.compiler.located import fail
from designedit.compiler.options import Options


def linear_of(op) -> np.ndarray:
    if isinstance(op, Resize):
        return np.diag(op.factors)  # width and height ratios (equal for `scale`)
    if isinstance(op, Flip):
        return np.diag([-1.0, 1.0]) if op.axis == "horizontal" else np.diag([1.0, -1.0])
    if isinstance(op, Rotate):
        a = math.radians(float(op.degrees))
        c, s = math.cos(a), math.sin(a)
        # y points down, so this matrix turns clockwise on screen for positive angles
        return np.array([[c, -s], [s, c]])
    raise TypeError(op)


def fold(transforms, width: int, height: int) -> tuple[np.ndarray, tuple[float, float]]:
    """(A, t): the folded linear part and the total translation in canvas pixels."""
    a = np.eye(2)
    tx = ty = 0.0
    for op in transforms:
        if isinstance(op, Move):
            tx += resolve_length(op.dx, width)
            ty += resolve_length(op.dy, height)
        else:
            a = linear_of(op) @ a
    return a, (tx, ty)


def warp_mask(mask: np.ndarray, matrix: np.ndarray, box=None) -> tuple[np.ndarray, object]:
    """Warp a mask (bilinear, zero outside), computing only the box its set pixels land in.
    Returns (mask, box of its non-zero pixels or None)."""
    h, w = mask.shape
    out = np.zeros(mask.shape, mask.dtype)  # zeros_like would write every page of a 40 MP canvas
    box = box or M.bbox(mask)
    if box is None:
        return out, None
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], dtype=np.float64)
    dst = corners @ matrix[:, :2].T + matrix[:, 2]
    X0 = max(0, int(np.floor(dst[:, 0].min())) - 2)
    Y0 = max(0, int(np.floor(dst[:, 1].min())) - 2)
    X1 = min(w, int(np.ceil(dst[:, 0].max())) + 3)
    Y1 = min(h, int(np.ceil(dst[:, 1].max())) + 3)
    if X1 <= X0 or Y1 <= Y0:
        return out, None
    local = matrix.copy()
    local[:, 2] -= (X0, Y0)
    crop = warp.warp_mask(mask, local, X1 - X0, Y1 - Y0)
    out[Y0:Y1, X0:X1] = crop
    inner = M.bbox(crop)
    if inner is None:
        return out, None
    return out, (X0 + inner[0], Y0 + inner[1], X0 + inner[2], Y0 + inner[3])


def to_cells(px_canvas: float, canvas_side: int, render_side: int, scale: int, schedule: str) -> int:
    cells = px_canvas * render_side / canvas_side / scale
    if schedule == "reference":
        return int(cells)  # toward zero, as the authors' int()
    return nearest(cells)  # halves away from zero: -4 px moves as far as +4


def _out_of_range(a: np.ndarray, tx: float, ty: float, box: tuple[int, int, int, int]) -> str | None:
    """Why the folded transforms cannot be applied: each op is within its limit (designedit.checks.limits), but many
    of them together may not be. Decided from the numbers alone, before any picture is warped, so `validate`
    and every renderer refuse the same scenes (a warp by a nearly singular matrix crashes OpenCV)."""
    if not np.isfinite(a).all() or np.abs(a).max() > limits.MAX_SCALE:
        return f"its transforms together enlarge the object more than {limits.MAX_SCALE} times"
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], dtype=np.float64) @ a.T
    extent = corners.max(axis=0) - corners.min(axis=0)
    if extent.min() < 1.0:
        return "its transforms shrink the object to nothing"
    if np.linalg.svd(a, compute_uv=False).min() < limits.MIN_SCALE * (1 - 1e-9):  # one resize may be MIN_SCALE
        return f"its transforms together shrink the object more than {round(1 / limits.MIN_SCALE)} times in one direction"
    if not (math.isfinite(tx) and math.isfinite(ty)) or max(abs(tx), abs(ty)) > limits.MAX_MOVE_PX:
        return f"its moves add up to more than {limits.MAX_MOVE_PX} pixels"
    return None


def transform_layers(scene: Scene, layers: Sequence[PlacedLayer], canvas: Size, render: Size, opts: Options,
                     budget: M.Budget) -> list[LayerIR]:
    """`budget`: the layers' (`place_layers`), which the warped masks join."""
    return [_transformed(scene, layer, spec, ("layers", index), canvas, render, opts, budget)
            for index, (layer, spec) in enumerate(zip(layers, scene.layers))]


def _transformed(scene: Scene, layer: PlacedLayer, spec: Layer, at: tuple, canvas: Size, render: Size, opts: Options,
                 budget: M.Budget) -> LayerIR:
    w, h = canvas.width, canvas.height
    a, (tx, ty) = fold(spec.transforms, w, h)
    # about the centroid of what is selected (spec/format.md 6: value >= 128), not of grey or feathered
    # values: a picture's faint alpha shadow or the reference's grey mask pictures do not move it
    c = M.centroid(M.binary(layer.drawn_placed), layer.box_placed)
    if c is None:  # pragma: no cover - place_layers refuses empty masks
        raise fail(scene, f"layer {layer.id!r}", "its mask selects nothing", at)
    why = _out_of_range(a, tx, ty, layer.box_placed or M.bbox(layer.mask_placed))
    if why is not None:
        raise fail(scene, f"layer {layer.id!r}", why, at)
    if np.allclose(a, np.eye(2), atol=1e-12):
        matrix = None
        mask, box = layer.mask_placed, layer.box_placed
        occluder, drawn = layer.occluder_placed, layer.canvas_placed
    else:
        cv_ = np.asarray(c)
        matrix = np.hstack([a, (cv_ - a @ cv_)[:, None]])
        mask, box = warp_mask(layer.mask_placed, matrix, layer.box_placed)
        if box is None or not (mask[box[1] : box[3], box[0] : box[2]] >= 128).any():
            raise fail(scene, f"layer {layer.id!r}", "its transforms shrink the object to nothing", at)
        occluder = None if layer.occluder_placed is None else warp_mask(layer.occluder_placed, matrix)[0]
        drawn = None if layer.canvas_placed is None else warp_mask(layer.canvas_placed, matrix)[0]
        if not (budget.charge_rows(mask, box) and budget.charge_rows(occluder) and budget.charge_rows(drawn)):
            raise over_budget(scene, layer.id, at, budget, canvas)
    dx = to_cells(tx, w, render.width, opts.latent_scale, opts.schedule)
    dy = to_cells(ty, h, render.height, opts.latent_scale, opts.schedule)
    ax = dx * opts.latent_scale * w / render.width
    ay = dy * opts.latent_scale * h / render.height
    return LayerIR.of(layer, linear=a, centroid=c, matrix=matrix, mask_frame=mask, box_frame=box, occluder_frame=occluder,
                      canvas_frame=drawn, dx_px=tx, dy_px=ty, dx=dx, dy=dy, applied_px=(ax, ay),
                      rounding_px=(tx - ax, ty - ay))
