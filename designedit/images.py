"""Image recipes: running a PlanImage's ops to pixels, and hashing recipes by content.

A recipe works on a canvas-size RGB frame in canvas pixels (coordinates are
pixel indices: pixel (i, j) sits at (x=j, y=i), as in OpenCV), then resizes the
result to the size asked for with Pillow's bicubic filter (method 12).

ops:
- `frame {width, height}`: start a black frame of that size (always first);
- `load {src, sha256, x, y, extend?}`: draw a picture, top-left at (x, y), alpha
  composited over the frame; the file must still hash to `sha256`; with
  `extend`, the frame outside the picture takes its replicated edge pixels
  (an outpainted canvas starts from nearby content, not black);
- `affine {matrix}`: warp the frame, `dst = M @ [x, y, 1]`, bilinear, border
  pixels replicated;
- `pan {dx, dy}`: paste the frame shifted by (dx, dy) over itself;
- `zoom-out {factor}`: paste the frame shrunk by 1/factor about the centre
  (`zoom_rect`) over itself.
"""

from __future__ import annotations

import math

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image as PILImage

from . import warp
from .errors import DeditError
from .pictures import has_transparency, open_picture
from .plan import ImageOp, PlanImage, Size


# ---------------------------------------------------------------- hashing


def file_version(st) -> tuple:
    """What tells one content of a file from the next without reading it: a rewrite changes the change time
    even where the modification time is put back (`cp -p`, `rsync -t`), a replacement the inode."""
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)


@lru_cache(maxsize=256)
def _file_sha256_cached(path: str, version: tuple) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    return _file_sha256_cached(str(path), file_version(Path(path).stat()))


def recipe_key(ops: list[ImageOp]) -> str:
    """Content hash of a recipe: file contents by hash, never by path (same bytes, same key)."""
    canon = []
    for op in ops:
        args = {k: v for k, v in op.args.items() if not (op.op == "load" and k == "src")}
        canon.append([op.op, args])
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# ---------------------------------------------------------------- geometry shared with the compiler


def nearest(value: float) -> int:
    """The nearest whole number, halves away from zero (a move of -4 px goes as far as one of +4)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def whole_pixels(value: float, truncate: bool = False) -> int:
    """Rounded to the nearest pixel (`nearest`), or truncated toward zero as the authors' code does
    (`int(scale * W)`, the reference schedule's pan and zoom-out)."""
    return int(value) if truncate else nearest(value)


def zoom_rect(width: int, height: int, factor: float, truncate: bool = False) -> tuple[int, int, int, int]:
    """(x0, y0, w, h) of the frame shrunk by 1/factor about the centre (sizes by `whole_pixels`)."""
    w = max(1, whole_pixels(width / factor, truncate))
    h = max(1, whole_pixels(height / factor, truncate))
    return (width - w) // 2, (height - h) // 2, w, h


def shifted_paste(dst: np.ndarray, src: np.ndarray, dx: int, dy: int) -> None:
    """dst[y + dy, x + dx] = src[y, x] wherever both are inside."""
    h, w = src.shape[:2]
    if abs(dx) >= w or abs(dy) >= h:
        return
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    dst[yd, xd] = src[ys, xs]


# ---------------------------------------------------------------- running recipes


@lru_cache(maxsize=2)  # at most two decoded pictures held (40 MP RGBA is 160 MB)
def _decoded_cached(path: str, version: tuple) -> np.ndarray:
    im = open_picture(Path(path))
    pic = np.asarray(im.convert("RGBA" if has_transparency(im) else "RGB"), dtype=np.uint8)
    pic.flags.writeable = False  # shared by every recipe that loads this file
    return pic


def _decoded(path: Path) -> np.ndarray:
    """The picture as RGB, or RGBA where it has transparency: a scene's recipes (background, each layer,
    each copy) mostly load the same file, decoded once here while it is unchanged on disk."""
    return _decoded_cached(str(path), file_version(path.stat()))


def has_alpha(path: Path) -> bool:
    """Whether a picture has transparency (read from the decode that recipes share)."""
    return _decoded(Path(path)).shape[2] == 4


def _load(frame: np.ndarray, args: dict[str, Any]) -> None:
    path = Path(args["src"])
    if "sha256" in args and file_sha256(path) != args["sha256"]:
        raise DeditError(f"{path.name} changed after the plan was compiled; compile again.")
    pic = _decoded(path)
    x, y = int(args.get("x", 0)), int(args.get("y", 0))
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
    if args.get("extend"):
        frame[:] = cv2.copyMakeBorder(frame[y0:y1, x0:x1], y0, fh - y1, x0, fw - x1, cv2.BORDER_REPLICATE)


def _affine(frame: np.ndarray, args: dict[str, Any]) -> np.ndarray:
    m = np.asarray(args["matrix"], dtype=np.float64).reshape(2, 3)
    warp.check_bounded(m)
    h, w = frame.shape[:2]
    return cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _pan(frame: np.ndarray, args: dict[str, Any]) -> np.ndarray:
    out = frame.copy()
    shifted_paste(out, frame, int(args["dx"]), int(args["dy"]))
    return out


def _zoom_out(frame: np.ndarray, args: dict[str, Any]) -> np.ndarray:
    h, w = frame.shape[:2]
    x0, y0, zw, zh = zoom_rect(w, h, float(args["factor"]), bool(args.get("truncate", False)))
    out = frame.copy()
    out[y0 : y0 + zh, x0 : x0 + zw] = cv2.resize(frame, (zw, zh), interpolation=cv2.INTER_AREA)
    return out


def run_recipe(ops: list[ImageOp]) -> np.ndarray:
    """The recipe's frame at its own (canvas) size, (h, w, 3) uint8."""
    if not ops or ops[0].op != "frame":
        raise DeditError("an image recipe must start with a frame op.")
    frame = np.zeros((int(ops[0].args["height"]), int(ops[0].args["width"]), 3), np.uint8)
    for op in ops[1:]:
        if op.op == "load":
            _load(frame, op.args)
        elif op.op == "affine":
            frame = _affine(frame, op.args)
        elif op.op == "pan":
            frame = _pan(frame, op.args)
        elif op.op == "zoom-out":
            frame = _zoom_out(frame, op.args)
        else:
            raise DeditError(f"unknown image recipe op {op.op!r}.")
    return frame


def materialize(image: PlanImage, size: Size) -> np.ndarray:
    """Run `image`'s recipe and resize to `size` (Pillow bicubic, as the reference does); (h, w, 3) uint8."""
    frame = run_recipe(image.ops)
    if frame.shape[:2] == (size.height, size.width):
        return frame
    return np.asarray(PILImage.fromarray(frame).resize((size.width, size.height), PILImage.BICUBIC), dtype=np.uint8)
