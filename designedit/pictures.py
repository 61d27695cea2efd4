"""Opening pictures safely: size limits checked from the header, before decoding.

numpy is imported by the loaders only: `dedit validate` reads headers and should not pay for it.
"""

from __future__ import annotations

import warnings
from struct import error as struct_error
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image as PILImage

if TYPE_CHECKING:
    import numpy as np

from .errors import DeditError

MAX_PIXELS = 40_000_000  # tens of megapixels: generous for a ~1 MP method
MAX_SIDE = 16384


class PictureError(DeditError):
    """A picture cannot be used; the message is one sentence (callers attach the location).

    It is bad input, like a bad document: exit status 2."""

    exit_status = 2


def check_size(width: int, height: int, what: str = "the picture") -> None:
    if width <= 0 or height <= 0:
        raise PictureError(f"{what} has no pixels")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise PictureError(f"{what} is {width}x{height} pixels, above the limit of {MAX_SIDE} pixels per side")
    if width * height > MAX_PIXELS:
        raise PictureError(f"{what} is {width}x{height} pixels, above the limit of {MAX_PIXELS // 1_000_000} megapixels")


def _open_checked(path: Path) -> PILImage.Image:
    """Open a picture (header only) and check its size before anything is decoded."""
    try:
        with warnings.catch_warnings():
            # our own, lower limit applies below; Pillow's warning would only blur the message
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            im = PILImage.open(path)
    except FileNotFoundError:
        raise PictureError(f"{path.name} does not exist") from None
    except PILImage.DecompressionBombError:
        raise PictureError(f"{path.name} is far above the limit of {MAX_PIXELS // 1_000_000} megapixels") from None
    except (OSError, SyntaxError, ValueError):
        raise PictureError(f"{path.name} is not a picture this reader can read (PNG, JPEG, WebP, ...)") from None
    try:
        check_size(*im.size, what=path.name)
    except PictureError:
        im.close()
        raise
    return im


def open_picture(path: Path) -> PILImage.Image:
    """Open and fully decode a picture, refusing oversized or undecodable ones."""
    im = _open_checked(path)
    try:
        im.load()
    except (OSError, SyntaxError, ValueError, EOFError, struct_error):
        im.close()
        raise PictureError(_damaged(path)) from None
    return im


def _damaged(path: Path) -> str:
    return f"{path.name} cannot be decoded: the picture is cut short or damaged"


def check_decodes(path: Path) -> None:
    """Check that a picture's data is all there, without a full decode where a cheaper check exists.

    PNG: `verify()` reads every chunk and checks its CRC up to IEND (tens of milliseconds at 40 MP), which
    catches a truncated file; a chunk whose compressed data is corrupt but whose CRC matches is only found
    when the picture is decoded. JPEG: Pillow's `verify()` checks nothing, so the picture is decoded at
    1/8 scale (draft mode), which still reads all of its data. Other formats are decoded fully.
    Raises PictureError like `open_picture`."""
    im = _open_checked(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if im.format == "PNG":
                im.verify()
            else:
                if im.format == "JPEG":
                    im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
                im.load()
    except (OSError, SyntaxError, ValueError, EOFError, struct_error):
        raise PictureError(_damaged(path)) from None
    finally:
        im.close()


def picture_size(path: Path) -> tuple[int, int]:
    """(width, height) from the header only; raises PictureError like open_picture."""
    with _open_checked(path) as im:
        return im.size


def has_transparency(im: PILImage.Image) -> bool:
    """Whether an opened picture carries alpha (header only: mode and info)."""
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def _alpha_of(im: PILImage.Image) -> np.ndarray | None:
    import numpy as np

    if has_transparency(im):
        return np.asarray(im.convert("RGBA"), dtype=np.uint8)[..., 3].copy()
    return None


def load_alpha(path: Path) -> np.ndarray | None:
    """(h, w) uint8 alpha if the picture has transparency, else None."""
    return _alpha_of(open_picture(path))


def load_mask_values(path: Path) -> np.ndarray:
    """(h, w) uint8: alpha for pictures with transparency, else luminance, as they are (grey edges, JPEG noise)."""
    import numpy as np

    im = open_picture(path)
    values = _alpha_of(im)
    if values is None:
        values = np.asarray(im.convert("L"), dtype=np.uint8)
    return values


def load_mask_picture(path: Path) -> np.ndarray:
    """(h, w) uint8 0/255: load_mask_values thresholded at one half."""
    import numpy as np

    return np.where(load_mask_values(path) >= 128, 255, 0).astype(np.uint8)
