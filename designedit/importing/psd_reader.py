"""PSD (and PSB) comps through psd-tools, bounded before it parses anything.

The 26-byte header is read first: the signature, the version, the canvas size, the depth and the colour
mode are checked there, so a header that claims 30000x30000 pixels is refused without reading further.
Every layer's box is checked before its pixels are decoded. Text, shape and smart-object layers are taken
as the pixels the file stores for them (what the design program rasterised); adjustment layers have none.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path
from typing import Any, Iterator

from designedit.importing.bounds import MAX_COMP_BYTES, MAX_LAYERS, size_problem
from designedit.importing.comp import Comp, CompLayer, check_name, layer_location, refuse

_SIGNATURE = b"8BPS"
_RGB, _GREY = 3, 1  # colour modes this import reads (the others: bitmap, indexed, CMYK, Lab...)
_MODE_NAMES = {0: "bitmap", 1: "greyscale", 2: "indexed", 4: "CMYK", 7: "multichannel", 8: "duotone", 9: "Lab"}
_NORMAL = {"normal", "pass_through"}


def read_header(data: bytes, label: str) -> tuple[int, int]:
    """(width, height) from the header, or SceneError: not a PSD, a size past the limits, a depth or colour
    mode this import does not read."""
    if len(data) < 26 or data[:4] != _SIGNATURE:
        raise refuse(label, "this is not a PSD file (it does not start with the PSD signature)")
    version, _, channels, height, width, depth, mode = struct.unpack(">H6sHIIHH", data[4:26])
    if version not in (1, 2):
        raise refuse(label, f"this PSD has version {version}; only 1 (PSD) and 2 (PSB) exist")
    why = size_problem(width, height, "the canvas")
    if why is not None:
        raise refuse(label, why)
    if depth != 8:
        raise refuse(label, f"the PSD has {depth} bits per channel; save it with 8 bits per channel to import it")
    if mode not in (_RGB, _GREY):
        raise refuse(label, f"the PSD is in {_MODE_NAMES.get(mode, f'colour mode {mode}')}; save it as RGB to import it")
    return width, height


def read_psd(path: Path, label: str) -> Comp:
    """The comp a PSD holds: its visible leaf layers, bottom to top, bounded (`bounds`)."""
    import numpy as np

    data = _read_bounded(path, label)
    width, height = read_header(data, label)
    psd = _parse(data, label)
    comp = Comp(label, width, height)
    leaves = 0
    for layer, group_path, opacity, group_blend in _visible_leaves(psd, "", 1.0, ""):
        leaves += 1
        if leaves > MAX_LAYERS:
            raise refuse(label, f"the comp has more than {MAX_LAYERS} visible layers, the limit")
        layer_path = group_path + layer.name
        check_name(label, layer_path, layer_path)
        kind = str(layer.kind)
        if kind == "adjustment":
            comp.warnings.append(f"{layer_location(label, layer_path)}: an adjustment layer has no pixels of its own; it is ignored")
            continue
        w, h = int(layer.width), int(layer.height)
        if w <= 0 or h <= 0:
            continue  # an empty layer paints nothing
        why = size_problem(w, h, "the layer")
        if why is not None:
            raise refuse(label, why, layer_path)
        try:
            picture = layer.topil()
        except Exception:  # noqa: BLE001 - psd-tools raises many kinds on damaged channel data
            raise refuse(label, "its pixels cannot be decoded (the file is damaged or truncated)", layer_path) from None
        if picture is None:
            comp.warnings.append(f"{layer_location(label, layer_path)}: the file stores no pixels for this {kind} layer; it is ignored")
            continue
        rgba = np.asarray(picture.convert("RGBA"), dtype=np.uint8)
        blend = _blend_name(layer.blend_mode)
        comp.layers.append(CompLayer(
            name=layer.name, path=layer_path, rgba=rgba, x=int(layer.left), y=int(layer.top),
            opacity=opacity * int(layer.opacity) / 255.0, blend=blend or group_blend, kind=kind,
        ))
    return comp


def _read_bounded(path: Path, label: str) -> bytes:
    with open(path, "rb") as fh:  # read-only: the comp is never written
        data = fh.read(MAX_COMP_BYTES + 1)
    if len(data) > MAX_COMP_BYTES:
        raise refuse(label, f"the file is larger than {MAX_COMP_BYTES >> 20} MB, the limit for a comp")
    return data


def _parse(data: bytes, label: str) -> Any:
    import io

    from psd_tools import PSDImage

    logging.getLogger("psd_tools").setLevel(logging.ERROR)  # its own notes on unknown blocks are not ours
    try:
        return PSDImage.open(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - a damaged file fails in psd-tools in many ways (struct, EOF, asserts)
        raise refuse(label, "the PSD cannot be read: it is damaged or truncated") from None


def _visible_leaves(group: Any, prefix: str, opacity: float, blend: str) -> Iterator[tuple[Any, str, float, str]]:
    """(layer, the path of its groups, the groups' opacity, a group's blend mode other than normal) of every
    visible leaf under `group`, bottom to top. A hidden group hides its leaves."""
    for layer in group:
        if not layer.visible:
            continue
        if layer.is_group():
            inner = _blend_name(layer.blend_mode) or blend
            yield from _visible_leaves(layer, f"{prefix}{layer.name}/", opacity * int(layer.opacity) / 255.0, inner)
        else:
            yield layer, prefix, opacity, blend


def _blend_name(mode: Any) -> str:
    """The blend mode's name in words ('' for normal and a group's pass-through)."""
    name = str(getattr(mode, "name", mode)).lower()
    return "" if name in _NORMAL else name.replace("_", " ")

