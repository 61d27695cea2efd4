"""The picture as a vision model sees it: a data URL of a downscaled copy (bounded), and its real size."""

from __future__ import annotations

import base64
import io
from pathlib import Path

MAX_SIDE = 1024  # what vision models look at anyway; keeps the request under a megabyte or so
JPEG_QUALITY = 90


def data_url(path: Path, max_side: int = MAX_SIDE) -> tuple[str, tuple[int, int]]:
    """(a data: URL of the picture, at most `max_side` pixels on its long side, as JPEG; its own size)."""
    from PIL import Image as PILImage

    from designedit.imaging.pictures import open_picture

    im = open_picture(path)
    size = im.size
    rgb = im.convert("RGB")
    scale = min(1.0, max_side / max(size))
    if scale < 1.0:
        rgb = rgb.resize((max(1, round(size[0] * scale)), max(1, round(size[1] * scale))), PILImage.LANCZOS)
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), size
