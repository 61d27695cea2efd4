"""Writing results: atomically, so a reader never sees a half-written file.

Every file goes to a temporary name in the destination folder first and is
moved over the destination with `os.replace` (atomic on one filesystem) only
once it is complete. Any failure, Ctrl-C included, removes the temporary file
and leaves whatever was at the destination before untouched.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Collection, Mapping

import numpy as np
from PIL import Image as PILImage
from PIL import PngImagePlugin

from designedit.rendering.atomic import atomic_write_bytes, why_unwritable
from designedit.errors import DestinationError

# PNG text chunk keys, as `dedit:<name>` so other tools' keys never collide.
METADATA_PREFIX = "dedit:"


def check_not_an_input(path: Path | str, inputs: Collection[Path]) -> None:
    """Refuse (DestinationError) a destination that is one of the scene's own files (`inputs`, resolved:
    `rendering.scene_files`): an output must never replace the document or a picture it reads."""
    if Path(path).resolve() in inputs:
        raise DestinationError(f"the output {path} is one of the scene's own files; refusing to overwrite it.")


def check_destination(path: Path | str, folder: bool = False, inputs: Collection[Path] = ()) -> None:
    """Raise DestinationError (one sentence: the path and why) unless `path` can be written; writes nothing
    that stays. `inputs`: the scene's own files, which a file destination must not be (`check_not_an_input`).
    `folder=True`: a folder files will be written into (missing folders are fine: they are created when
    the files are written)."""
    if not folder:
        check_not_an_input(path, inputs)
    why = why_unwritable(Path(path), folder=folder)
    if why is not None:
        raise DestinationError(f"cannot write {path}: {why}.")


def check_png_destination(path: Path | str, inputs: Collection[Path] = ()) -> None:
    """`check_destination` for a picture: also a .png name (dedit writes PNG with its metadata)."""
    if Path(path).suffix.lower() != ".png":
        raise DestinationError(f"the output {path} must be a .png file (dedit writes PNG with its metadata).")
    check_destination(path, inputs=inputs)


def png_bytes(image: np.ndarray, metadata: Mapping[str, Any] | None = None) -> bytes:
    """Encode an (h, w, 3|4) or (h, w) uint8 array as PNG with `dedit:*` text chunks."""
    arr = np.ascontiguousarray(image, dtype=np.uint8)
    info = PngImagePlugin.PngInfo()
    for key, value in (metadata or {}).items():
        if value is None:
            continue
        info.add_text(METADATA_PREFIX + key, value if isinstance(value, str) else json.dumps(value))
    buf = io.BytesIO()
    PILImage.fromarray(arr).save(buf, format="PNG", pnginfo=info, compress_level=4)
    return buf.getvalue()


def write_png(path: Path | str, image: np.ndarray, metadata: Mapping[str, Any] | None = None) -> Path:
    """Encode first (so an encoding error writes nothing), then write atomically."""
    return atomic_write_bytes(path, png_bytes(image, metadata))


def write_json(path: Path | str, value: Any) -> Path:
    return atomic_write_bytes(path, (json.dumps(value, indent=1, sort_keys=True, default=str) + "\n").encode("utf-8"))


def read_png_metadata(path: Path | str) -> dict[str, str]:
    """The `dedit:*` text chunks of a PNG, without the prefix."""
    with PILImage.open(path) as im:
        text = getattr(im, "text", {}) or {}
        return {k[len(METADATA_PREFIX) :]: v for k, v in text.items() if k.startswith(METADATA_PREFIX)}
