"""Image recipes: running a PlanImage's ops to pixels, and hashing recipes by content.

A recipe works on a canvas-size RGB frame in canvas pixels (coordinates are
pixel indices: pixel (i, j) sits at (x=j, y=i), as in OpenCV), then resizes the
result to the size asked for with Pillow's bicubic filter (method 12). The ops
are `designedit.plan.image_ops`'s.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image as PILImage

from designedit.errors import DeditError
from designedit.imaging import warp
from designedit.imaging.files import _decoded, file_sha256
from designedit.imaging.geometry import shifted_paste, zoom_rect
from designedit.plan.codec import encode
from designedit.plan.image_ops import AffineOp, FrameOp, ImageOp, LoadOp, PanOp, ZoomOutOp
from designedit.plan.ir import PlanImage, Size


def recipe_key(ops: list[ImageOp]) -> str:
    """Content hash of a recipe: file contents by hash, never by path (same bytes, same key)."""
    canon = []
    for op in ops:
        args = encode(ImageOp, op)["args"]
        if isinstance(op, LoadOp):
            del args["src"]
        canon.append([op.kind, args])
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _load(frame: np.ndarray, op: LoadOp) -> None:
    path = Path(op.src)
    if file_sha256(path) != op.sha256:
        raise DeditError(f"{path.name} changed after the plan was compiled; compile again.")
    pic = _decoded(path)
    x, y = int(op.x), int(op.y)
    has_alpha = pic.shape[2] == 4
    fh, fw = frame.shape[:2]
    ph, pw = pic.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + pw), min(fh, y + ph)
    if x1 <= x0 or y1 <= y0:
        return
    part = pic[y0 - y : y1 - y, x0 - x : x1 - x]
    if has_alpha:
        a = part[..., 3:].astype(np.float32) / 255.0
        under = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = (part[..., :3] * a + under * (1.0 - a) + 0.5).astype(np.uint8)
    else:
        frame[y0:y1, x0:x1] = part
    if op.extend:
        frame[:] = cv2.copyMakeBorder(frame[y0:y1, x0:x1], y0, fh - y1, x0, fw - x1, cv2.BORDER_REPLICATE)


def _affine(frame: np.ndarray, op: AffineOp) -> np.ndarray:
    m = np.asarray(op.matrix, dtype=np.float64).reshape(2, 3)
    warp.check_bounded(m)
    h, w = frame.shape[:2]
    return cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _pan(frame: np.ndarray, op: PanOp) -> np.ndarray:
    out = frame.copy()
    shifted_paste(out, frame, int(op.dx), int(op.dy))
    return out


def _zoom_out(frame: np.ndarray, op: ZoomOutOp) -> np.ndarray:
    h, w = frame.shape[:2]
    x0, y0, zw, zh = zoom_rect(w, h, float(op.factor), bool(op.truncate))
    out = frame.copy()
    out[y0 : y0 + zh, x0 : x0 + zw] = cv2.resize(frame, (zw, zh), interpolation=cv2.INTER_AREA)
    return out


def run_recipe(ops: list[ImageOp]) -> np.ndarray:
    """The recipe's frame at its own (canvas) size, (h, w, 3) uint8."""
    if not ops or not isinstance(ops[0], FrameOp):
        raise DeditError("an image recipe must start with a frame op.")
    frame = np.zeros((int(ops[0].height), int(ops[0].width), 3), np.uint8)
    for op in ops[1:]:
        match op:
            case LoadOp():
                _load(frame, op)
            case AffineOp():
                frame = _affine(frame, op)
            case PanOp():
                frame = _pan(frame, op)
            case ZoomOutOp():
                frame = _zoom_out(frame, op)
            case _:
                raise DeditError(f"an image recipe holds a {type(op).__name__} after its first op.")
    return frame


def materialize(image: PlanImage, size: Size) -> np.ndarray:
    """Run `image`'s recipe and resize to `size` (Pillow bicubic, as the reference does); (h, w, 3) uint8."""
    frame = run_recipe(image.ops)
    if frame.shape[:2] == (size.height, size.width):
        return frame
    return np.asarray(PILImage.fromarray(frame).resize((size.width, size.height), PILImage.BICUBIC), dtype=np.uint8)
