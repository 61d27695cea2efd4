"""How much an import may read, checked from headers before anything is decoded (spec/import.md, Limits).

The canvas and every layer obey the picture limits of the format (16384 pixels a side, 40 megapixels);
the file, an OpenRaster archive's members and what they inflate to are bounded too, so that a hostile file
(a zip bomb, a header that lies) is refused at once instead of exhausting memory or time.
"""

from __future__ import annotations

from designedit.errors import PictureError
from designedit.imaging.pictures import MAX_PIXELS, MAX_SIDE, check_size

MAX_COMP_BYTES = 1 << 30  # a layered file larger than 1 GiB is not a comp of a picture under 40 MP
MAX_LAYERS = 256  # the format's own limit on layers; the comp's leaves, groups included, are held to it
MAX_MEMBERS = 2 * MAX_LAYERS + 16  # an OpenRaster archive: one PNG per layer, stack.xml, thumbnails
MAX_STACK_BYTES = 1 << 20  # stack.xml of 256 layers is a few tens of kB
MAX_MEMBER_BYTES = 4 * MAX_PIXELS + (1 << 20)  # one layer's PNG inflates to at most 4 bytes a pixel, and more
MAX_INFLATED_BYTES = 1 << 31  # all members together
MAX_RATIO = 100  # layer PNGs are compressed already: deflate gains little on them; a member that inflates 100x is no PNG

__all__ = ["MAX_COMP_BYTES", "MAX_LAYERS", "MAX_MEMBERS", "MAX_STACK_BYTES", "MAX_MEMBER_BYTES",
           "MAX_INFLATED_BYTES", "MAX_RATIO", "MAX_SIDE", "MAX_PIXELS", "size_problem"]


def size_problem(width: int, height: int, what: str) -> str | None:
    """Why a canvas or layer of this size is refused, in one sentence, or None."""
    try:
        check_size(width, height, what)
    except PictureError as exc:
        return str(exc)
    return None
