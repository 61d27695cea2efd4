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

import cv2
import numpy as np

from .. import masks as M
from ..model import Flip, Move, Resize, Rotate, Scene, resolve_length
from ..plan import Size
from .context import LayerIR, Options, fail


def linear_of(op) -> np.ndarray:
    if isinstance(op, Resize):
        return np.eye(2) * float(op.scale)
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


def warp_mask(mask: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    return cv2.warpAffine(mask, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def to_cells(px_canvas: float, canvas_side: int, render_side: int, scale: int, schedule: str) -> int:
    cells = px_canvas * render_side / canvas_side / scale
    if schedule == "reference":
        return int(cells)  # toward zero, as the authors' int()
    return int(math.floor(cells + 0.5))


def apply_transforms(scene: Scene, layers: list[LayerIR], canvas: Size, render: Size, opts: Options) -> None:
    w, h = canvas.width, canvas.height
    for layer, spec in zip(layers, scene.layers):
        a, (tx, ty) = fold(spec.transforms, w, h)
        c = M.centroid(layer.mask_placed)
        if c is None:  # pragma: no cover - resolve_layers refuses empty masks
            raise fail(scene, f"layer {layer.id!r}", "its mask selects nothing")
        layer.linear, layer.centroid = a, c
        if np.allclose(a, np.eye(2), atol=1e-12):
            layer.matrix = None
            layer.mask_frame = layer.mask_placed
            layer.occluder_frame = layer.occluder_placed
        else:
            cv_ = np.asarray(c)
            layer.matrix = np.hstack([a, (cv_ - a @ cv_)[:, None]])
            layer.mask_frame = warp_mask(layer.mask_placed, layer.matrix)
            if not (layer.mask_frame >= 128).any():
                raise fail(scene, f"layer {layer.id!r}", "its transforms shrink the object to nothing")
            layer.occluder_frame = None if layer.occluder_placed is None else warp_mask(layer.occluder_placed, layer.matrix)
        layer.dx_px, layer.dy_px = tx, ty
        layer.dx = to_cells(tx, w, render.width, opts.latent_scale, opts.schedule)
        layer.dy = to_cells(ty, h, render.height, opts.latent_scale, opts.schedule)
        ax = layer.dx * opts.latent_scale * w / render.width
        ay = layer.dy * opts.latent_scale * h / render.height
        layer.applied_px = (ax, ay)
        layer.rounding_px = (tx - ax, ty - ay)
