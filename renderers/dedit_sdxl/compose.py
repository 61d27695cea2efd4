"""Pixels at the canvas: the decoded picture resized as each schedule says, the plan's background
picture, and the decomposition into the inpainted background and each moved layer."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from designedit.imaging.geometry import nearest, shift as shift_pixels
from designedit.plan import Plan
from designedit.rendering.protocol import LAYER_PREFIX

from .interpreter import first_fuse



def resize(picture: np.ndarray, size: tuple[int, int], schedule: str) -> np.ndarray:
    """The decoded picture at the canvas size: for the reference as the authors' code does it (OpenCV's
    bilinear, which does not antialias), else Pillow's bilinear, which antialiases when it shrinks."""
    if (picture.shape[1], picture.shape[0]) == size:
        return picture
    if schedule == "reference":
        return cv2.resize(picture, size, interpolation=cv2.INTER_LINEAR)
    return np.asarray(Image.fromarray(picture).resize(size, Image.BILINEAR), dtype=np.uint8)


def background(plan: Plan) -> np.ndarray:
    """The plan's background picture (its recipe run) at the canvas size, RGB."""
    from designedit.plan.recipes import materialize

    return materialize(plan.image(plan.background), plan.canvas)[..., :3]


def fuses_from_trajectory(plan: Plan) -> bool:
    """Whether the plan's fusion starts from an inversion trajectory (nothing removed: no L0 is evaluated)."""
    at = first_fuse(plan)
    return at is not None and plan.plan_steps[at[0]].ops[at[1]].source.inversion is not None


def layers(plan: Plan, inpainted: np.ndarray) -> dict[str, np.ndarray]:
    """The decomposition: the inpainted background and each moved layer with its mask as alpha."""
    from designedit.plan.recipes import materialize

    h, w = inpainted.shape[:2]
    out = {"background": np.dstack([inpainted, np.full((h, w), 255, np.uint8)])}
    for layer in plan.layers:
        if layer.mask_canvas not in plan.masks:
            continue
        image = materialize(plan.image(layer.image), plan.canvas)[..., :3]
        dx, dy = (nearest(v) for v in layer.applied_px)  # as the compiler placed edit@canvas
        rgba = np.dstack([image, plan.masks[layer.mask_canvas].data.astype(np.uint8)])
        out[LAYER_PREFIX + layer.id] = shift_pixels(rgba, dx, dy)
    return out
