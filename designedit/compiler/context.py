"""Values passed between compiler passes (plain dataclasses, schedule-aware where they must be)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import numpy as np

from designedit.errors import Problem, SceneError
from designedit.masks import MaskGroup
from designedit.model.scene import Scene

Schedule = Literal["fast", "reference"]

# Reference dilation sizes at 1024 px (method 4, 6, 12).
K_REMOVE = 20
K_PAN_ZOOM = 30
K_LAYER = 10
# The refine mask: the authors dilate it as attend_mask does by default (method 12 names no size for it).
K_REFINE = 10
# The occlusion key mask is a removal-like region: it gets the removal dilation.
K_OCCLUDE = K_REMOVE
# Paste-back margin around everything that may change, at 1024 px (grow, then a feathered edge).
EDIT_GROW = 24
EDIT_FEATHER = 8


@dataclass
class Options:
    schedule: Schedule
    steps: int
    latent_scale: int
    seed: int
    guidance: float
    prompt: str


@dataclass
class LayerIR:
    """One scene layer after the transforms pass (canvas pixels unless said otherwise)."""

    id: str
    index: int  # 1-based paste order
    src: Path
    sha256: str
    x: int
    y: int
    cuts: bool
    mask_placed: np.ndarray  # the layer mask where the picture sits (before transforms)
    occluder_placed: Optional[np.ndarray]
    linear: np.ndarray  # 2x2, folded resize/flip/rotate
    centroid: tuple[float, float]
    matrix: Optional[np.ndarray]  # 2x3 image-level affine, None when identity
    box_placed: Optional[tuple[int, int, int, int]] = None  # non-zero box of mask_placed
    mask_frame: np.ndarray = None  # after the image-level transform (before the move)
    box_frame: Optional[tuple[int, int, int, int]] = None
    occluder_frame: Optional[np.ndarray] = None
    # the reference reads mask pictures' grey values (method 12); what is drawn on the canvas (the
    # `layer:<id>@canvas` mask) stays thresholded: set in the reference for every layer with a mask
    canvas_placed: Optional[np.ndarray] = None
    canvas_frame: Optional[np.ndarray] = None
    dx_px: float = 0.0  # requested translation
    dy_px: float = 0.0
    dx: int = 0  # latent cells
    dy: int = 0
    applied_px: tuple[float, float] = (0.0, 0.0)
    rounding_px: tuple[float, float] = (0.0, 0.0)

    @property
    def drawn_placed(self) -> np.ndarray:
        """The mask as drawn on the canvas, before the image-level transform."""
        return self.mask_placed if self.canvas_placed is None else self.canvas_placed

    @property
    def drawn_frame(self) -> np.ndarray:
        """The mask as drawn on the canvas, after the image-level transform (`layer:<id>@canvas`)."""
        return self.mask_frame if self.canvas_frame is None else self.canvas_frame


@dataclass
class BackgroundIR:
    src: Path
    sha256: str
    geometry: list[tuple[str, tuple]]  # ("pan", (dx, dy)) / ("zoom-out", (factor, truncate)) in order
    removes: MaskGroup  # canvas masks, mapped to the final frame, folded (cut layers join in the regions pass)
    refines: MaskGroup
    holes: MaskGroup  # pan/zoom/outpaint regions
    extend: bool = False  # the picture does not cover the canvas: replicate its edges outwards
    remove_peaks: list[int] = field(default_factory=list)  # each removal's largest value, for the lint pass


def fail(scene: Scene, where: str, message: str, path: Optional[tuple] = None) -> SceneError:
    """A SceneError located at `path` (a path in the scene's JSON shape) in the scene's document: its
    line and column when it was read from XML, else `file#/json/pointer`; the document alone without a path."""
    if path is not None:
        location = place(scene, path)
    else:
        origin = scene.origin
        location = str(origin.path) if origin is not None and origin.path is not None else "<scene>"
    return SceneError(Problem(location, f"{where}: {message}" if where else message))


def place(scene: Scene, path: tuple) -> str:
    from designedit.model.source import scene_place

    return scene_place(scene, path)


def image_path(scene: Scene, image_id: str) -> tuple:
    """The path of an image's `src` in the scene."""
    index = next(i for i, image in enumerate(scene.images) if image.id == image_id)
    return ("images", index, "src")
