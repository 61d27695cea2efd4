"""Opening pictures safely: size limits checked from the header, before decoding; pictures as viewers show them.

Every picture is turned upright by its EXIF orientation (read from the header, so the size `picture_size`
gives is the size a decode has), and deep pictures (16-bit or 32-bit integers, floats) are scaled to 8 bits
over their full range (floats over 0..1), not clipped, before anything else reads them.

numpy is imported by the loaders only: reading headers should not pay for it. The size limits live in
`size_limits`, which needs no Pillow.
"""

from __future__ import annotations

import warnings
from struct import error as struct_error
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image as PILImage

if TYPE_CHECKING:
    import numpy as np

from designedit.errors import PictureError
from designedit.imaging.size_limits import MAX_PIXELS, MAX_SIDE, check_size  # noqa: F401 - the limits, here too

# EXIF orientation -> the transposition that turns the picture upright (as PIL.ImageOps.exif_transpose)
_UPRIGHT = {
    2: PILImage.Transpose.FLIP_LEFT_RIGHT,
    3: PILImage.Transpose.ROTATE_180,
    4: PILImage.Transpose.FLIP_TOP_BOTTOM,
    5: PILImage.Transpose.TRANSPOSE,
    6: PILImage.Transpose.ROTATE_270,
    7: PILImage.Transpose.TRANSVERSE,
    8: PILImage.Transpose.ROTATE_90,
}
_ORIENTATION_TAG = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}  # orientations that swap width and height


_ORIENTED_BY_PILLOW = {"TIFF"}  # formats Pillow turns upright itself (size at open, pixels at load)


def _orientation(im: PILImage.Image) -> int:
    """The EXIF (or XMP) orientation still to apply, 1 when there is none, from what was read with the header.
    The base class's getexif is called on purpose: a PNG's own would decode the whole picture to look after
    its data."""
    if im.format in _ORIENTED_BY_PILLOW:
        return 1
    try:
        value = PILImage.Image.getexif(im).get(_ORIENTATION_TAG, 1)
        return int(value) if int(value) in _UPRIGHT else 1
    except Exception:  # a damaged EXIF block: the picture is shown as stored, as viewers do
        return 1


def _upright_size(im: PILImage.Image) -> tuple[int, int]:
    w, h = im.size
    return (h, w) if _orientation(im) in _QUARTER_TURNS else (w, h)


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
    """Open and fully decode a picture, refusing oversized or undecodable ones; upright and 8 bits deep."""
    im = _open_checked(path)
    orientation = _orientation(im)
    depth = _depth(im)  # the raw layout is gone once the data is decoded
    try:
        im.load()
    except (OSError, SyntaxError, ValueError, EOFError, struct_error):
        im.close()
        raise PictureError(_damaged(path)) from None
    if depth is not None:
        im = _eight_bits(im, *depth)
    if orientation in _UPRIGHT:
        im = im.transpose(_UPRIGHT[orientation])
    return im


def _depth(im: PILImage.Image) -> tuple[float, bool] | None:
    """(the value shown as white, whether the stored integers are unsigned 32-bit ones Pillow keeps in a
    signed array) for a picture deeper than 8 bits, None for the others. Floats are white at 1.0."""
    if im.mode.startswith("I;16"):
        return 65535.0, False
    if im.mode == "F":
        return 1.0, False
    if im.mode != "I":
        return None
    # the layout as stored (TIFF: I;16S, I;32S signed, I;32N unsigned; plain I is Pillow's signed 32-bit)
    args = im.tile[0].args if im.tile else None
    rawmode = args[0] if isinstance(args, tuple) and args and isinstance(args[0], str) else "I"
    signed = rawmode == "I" or "S" in rawmode.partition(";")[2]
    bits = 16 if "16" in rawmode else 32
    return float(2 ** (bits - 1) - 1 if signed else 2**bits - 1), not signed and bits == 32


def _eight_bits(im: PILImage.Image, white: float, unsigned32: bool) -> PILImage.Image:
    """An 8-bit ("L") picture from a deep one, black at 0 and white at `white`, rounded to nearest; values
    outside that range (negative integers, floats outside 0..1) are clipped, NaN is black."""
    import numpy as np

    values = np.asarray(im)
    if unsigned32:
        values = values.view(np.uint32)
    out = np.empty(values.shape, np.uint8)
    for y in range(0, values.shape[0], 256):  # a band at a time: a 40 MP float picture needs no second copy
        scaled = np.nan_to_num(values[y : y + 256].astype(np.float64) * (255.0 / white), nan=0.0, posinf=255.0, neginf=0.0)
        out[y : y + 256] = np.floor(np.clip(scaled, 0.0, 255.0) + 0.5)
    return PILImage.fromarray(out, "L")


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
    """(width, height) upright (EXIF orientation applied), from the header only; raises PictureError like
    open_picture."""
    with _open_checked(path) as im:
        return _upright_size(im)


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
