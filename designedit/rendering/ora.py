"""`--layers DIR`: the decomposition as files a design tool opens.

A renderer returns its decomposition as RGBA arrays at the canvas size:
`background` (the inpainted background, opaque) and `layer:<id>` for each
layer in paint order (the transformed, moved layer; alpha = its mask). This
writes, into DIR:

- `background.png` and `layer-<id>.png`, each RGBA at the canvas size;
- `<name>.ora`: an OpenRaster stack (a zip whose first entry is `mimetype`,
  stored uncompressed, reading `image/openraster`; then `stack.xml`, one
  `data/*.png` per layer cropped to its visible pixels with its x/y offset,
  `Thumbnails/thumbnail.png` (at most 256 px) and `mergedimage.png`). Each layer
  element also records where the render put it (`dedit:x`, `dedit:y`), which
  `dedit import --onto` compares with the offsets a design program saved
  (spec/import.md 5).

Every file is written atomically.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Mapping, Optional
from xml.sax.saxutils import quoteattr

import cv2
import numpy as np

from designedit.rendering.atomic import atomic_write_bytes
from designedit.rendering.outputs import png_bytes
from designedit.rendering.protocol import LAYER_PREFIX

ORA_MIMETYPE = b"image/openraster"
THUMBNAIL_SIDE = 256
DEDIT_NAMESPACE = "urn:x-dedit:openraster"  # dedit's own attributes in stack.xml


def layer_entries(layers: Mapping[str, np.ndarray]) -> list[tuple[str, str, np.ndarray]]:
    """(display name, file stem, RGBA) bottom to top: the background, then layers in paint order."""
    entries = []
    if "background" in layers:
        entries.append(("background", "background", layers["background"]))
    for key, rgba in layers.items():
        if key == "background":
            continue
        name = key[len(LAYER_PREFIX) :] if key.startswith(LAYER_PREFIX) else key
        entries.append((name, f"layer-{name}", rgba))
    return entries


def write_layers(
    folder: Path | str,
    layers: Mapping[str, np.ndarray],
    merged: np.ndarray,
    name: str = "layers",
    metadata: Optional[Mapping[str, str]] = None,
) -> list[Path]:
    """Write the PNGs and `<name>.ora` into `folder`; returns the paths written."""
    folder = Path(folder)
    entries = layer_entries(layers)
    written = [atomic_write_bytes(folder / f"{stem}.png", png_bytes(_rgba(rgba), metadata)) for _, stem, rgba in entries]
    written.append(atomic_write_bytes(folder / f"{name}.ora", ora_bytes(entries, merged)))
    return written


def ora_bytes(entries: list[tuple[str, str, np.ndarray]], merged: np.ndarray) -> bytes:
    merged = _rgba(merged)
    h, w = merged.shape[:2]
    stack_items = []
    files: list[tuple[str, bytes]] = []
    for index, (name, stem, rgba) in enumerate(entries):
        x, y, crop = _crop_to_visible(_rgba(rgba))
        src = f"data/{index:03d}-{stem}.png"
        files.append((src, png_bytes(crop)))
        # dedit:x/y record where the render put the layer, so that `dedit import --onto` can tell a nudge made
        # in a design program (spec/import.md); programs that rewrite stack.xml drop them, and it copes
        stack_items.append(
            f"  <layer name={quoteattr(name)} src={quoteattr(src)} x=\"{x}\" y=\"{y}\""
            ' opacity="1.0" visibility="visible" composite-op="svg:src-over"'
            f' dedit:x="{x}" dedit:y="{y}"/>'
        )
    # OpenRaster lists the topmost layer first.
    stack_xml = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<image version="0.0.5" w="{w}" h="{h}" xres="72" yres="72" xmlns:dedit="{DEDIT_NAMESPACE}">\n'
        "<stack>\n" + "\n".join(reversed(stack_items)) + "\n</stack>\n</image>\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), ORA_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        zf.writestr("stack.xml", stack_xml.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
        for src, data in files:
            zf.writestr(src, data, compress_type=zipfile.ZIP_STORED)  # PNG is compressed already
        zf.writestr("Thumbnails/thumbnail.png", png_bytes(_thumbnail(merged)), compress_type=zipfile.ZIP_STORED)
        zf.writestr("mergedimage.png", png_bytes(merged), compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def _rgba(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        image = np.dstack([image] * 3)
    if image.shape[2] == 3:
        image = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    return np.ascontiguousarray(image)


def _crop_to_visible(rgba: np.ndarray) -> tuple[int, int, np.ndarray]:
    ys, xs = np.nonzero(rgba[..., 3])
    if len(xs) == 0:  # nothing visible: a single transparent pixel keeps the stack valid
        return 0, 0, np.zeros((1, 1, 4), np.uint8)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    return x0, y0, np.ascontiguousarray(rgba[y0:y1, x0:x1])


def _thumbnail(rgba: np.ndarray) -> np.ndarray:
    h, w = rgba.shape[:2]
    scale = min(1.0, THUMBNAIL_SIDE / max(h, w))
    if scale >= 1.0:
        return rgba
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgba, size, interpolation=cv2.INTER_AREA)
