"""How large a picture may be: checked from its header before anything is decoded. Apart from
`pictures` (which opens pictures with Pillow) so that the document checks can apply the limits to sizes
written in a document without importing Pillow."""

from __future__ import annotations

from designedit.errors import PictureError

MAX_PIXELS = 40_000_000  # tens of megapixels: generous for a ~1 MP method
MAX_SIDE = 16384


def check_size(width: int, height: int, what: str = "the picture") -> None:
    if width <= 0 or height <= 0:
        raise PictureError(f"{what} has no pixels")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise PictureError(f"{what} is {width}x{height} pixels, above the limit of {MAX_SIDE} pixels per side")
    if width * height > MAX_PIXELS:
        raise PictureError(f"{what} is {width}x{height} pixels, above the limit of {MAX_PIXELS // 1_000_000} megapixels")
