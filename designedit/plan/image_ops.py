"""The steps of an image recipe, in canvas pixels: one frozen class per op.

A recipe starts with a `FrameOp` and yields a canvas-size RGB frame, which
`designedit.plan.recipes` runs and resizes (spec/plan.md). Each class's `kind`
is its name in the plan JSON, `{"op": kind, "args": {fields}}`; an argument with
a default is written only when it differs from it (`IMAGE_OP_FORM`), so recipes
(and their content keys) read as they always have.
"""

from __future__ import annotations

from typing import Annotated, Union

from designedit.plan.codec import Tagged, Variant


class FrameOp(Variant, kind="frame"):  # a black frame of this size (always the first op)
    width: int
    height: int


class LoadOp(Variant, kind="load"):  # a picture drawn (alpha composited) with its top-left at (x, y)
    src: str  # absolute path (relative to the scene's folder in `dedit plan --json`)
    sha256: str  # what the file must still hash to
    x: int
    y: int
    extend: bool = False  # the frame outside the picture takes its replicated edges (an outpainted canvas)


class AffineOp(Variant, kind="affine"):  # the frame warped, dst = M @ [x, y, 1], bilinear, borders replicated
    matrix: tuple[float, ...]  # M (canvas -> canvas), 2x3 row-major


class PanOp(Variant, kind="pan"):  # the frame pasted over itself, shifted by (dx, dy)
    dx: int
    dy: int


class ZoomOutOp(Variant, kind="zoom-out"):  # the frame pasted over itself, shrunk by 1/factor about the centre
    factor: float
    truncate: bool = False  # the shrunk size toward zero, as the authors compute it (the reference schedule)


IMAGE_OP_FORM = Tagged("op", args="args")

ImageOp = Annotated[Union[FrameOp, LoadOp, AffineOp, PanOp, ZoomOutOp], IMAGE_OP_FORM]
