"""Opening pictures safely: size limits checked from the header, before decoding."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from .errors import DeditError

MAX_PIXELS = 40_000_000  # tens of megapixels: generous for a ~1 MP method
MAX_SIDE = 16384


class PictureError(DeditError):
    """A picture cannot be used; the message is one sentence (callers attach the location)."""


def check_size(width: int, height: int, what: str = "the picture") -> None:
    if width <= 0 or height <= 0:
        raise PictureError(f"{what} has no pixels")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise PictureError(
            f"{what} is {width}x{height} pixels, above the limit of {MAX_SIDE} per side and {MAX_PIXELS // 1_000_000} megapixels"
        )


def open_picture(path: Path) -> PILImage.Image:
    """Open and fully decode a picture, refusing oversized or undecodable ones."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            im = PILImage.open(path)
            check_size(*im.size, what=f"{path.name}")
            im.load()
    except PictureError:
        raise
    except FileNotFoundError:
        raise PictureError(f"{path.name} does not exist") from None
    except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
        raise PictureError(f"{path.name} is not a picture this reader can decode ({type(exc).__name__})") from None
    return im


def picture_size(path: Path) -> tuple[int, int]:
    """(width, height) from the header only; raises PictureError like open_picture."""
    try:
        with PILImage.open(path) as im:
            check_size(*im.size, what=f"{path.name}")
            return im.size
    except PictureError:
        raise
    except FileNotFoundError:
        raise PictureError(f"{path.name} does not exist") from None
    except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError) as exc:
        raise PictureError(f"{path.name} is not a picture this reader can decode ({type(exc).__name__})") from None


def load_rgb(path: Path) -> np.ndarray:
    """(h, w, 3) uint8; transparent pixels of RGBA pictures are composited over black."""
    im = open_picture(path)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32)
        return (rgba[..., :3] * (rgba[..., 3:] / 255.0) + 0.5).astype(np.uint8)
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def load_alpha(path: Path) -> np.ndarray | None:
    """(h, w) uint8 alpha if the picture has transparency, else None."""
    im = open_picture(path)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        return np.asarray(im.convert("RGBA"), dtype=np.uint8)[..., 3].copy()
    return None


def load_mask_picture(path: Path) -> np.ndarray:
    """(h, w) uint8 0/255: alpha for pictures with transparency, else luminance; thresholded at one half."""
    alpha = load_alpha(path)
    if alpha is not None:
        values = alpha
    else:
        values = np.asarray(open_picture(path).convert("L"), dtype=np.uint8)
    return np.where(values >= 128, 255, 0).astype(np.uint8)
