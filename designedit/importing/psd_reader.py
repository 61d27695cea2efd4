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

from designedit.errors import DeditError
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


def precheck(path: Path, label: str) -> None:
    """What can be refused from the file's structure alone, cheaply (no psd-tools, no numpy): the header
    (`read_header`) and every section's length against the bytes that follow it, so that a truncated file
    is refused before any parser reads it."""
    import os

    size = os.stat(path).st_size
    if size > MAX_COMP_BYTES:
        raise refuse(label, f"the file is larger than {MAX_COMP_BYTES >> 20} MB, the limit for a comp")
    with open(path, "rb") as fh:  # read-only: the comp is never written
        header = fh.read(26)
        width, height = read_header(header, label)
        psb = struct.unpack(">H", header[4:6])[0] == 2
        channels, depth = struct.unpack(">H", header[12:14])[0], 8
        for section, wide in (("colour mode section", False), ("image resource section", False), ("layer section", psb)):
            raw = fh.read(8 if wide else 4)
            if len(raw) < (8 if wide else 4):
                raise refuse(label, f"the PSD is truncated: it ends before its {section}")
            length = struct.unpack(">Q" if wide else ">I", raw)[0]
            if fh.tell() + length > size:
                raise refuse(label, f"the PSD is truncated: its {section} ends past the end of the file")
            if section == "layer section" and length:
                _check_layer_records(fh.read(min(length, MAX_RECORD_BYTES)), psb, label)
                fh.seek(fh.tell() - min(length, MAX_RECORD_BYTES) + length)
            else:
                fh.seek(length, 1)
        compression = fh.read(2)
        if len(compression) < 2:
            raise refuse(label, "the PSD is truncated: it ends before the merged picture")
        rows = channels * height
        left = size - fh.tell()
        kind = struct.unpack(">H", compression)[0]
        if kind == 0 and left < rows * width * depth // 8:
            raise refuse(label, "the PSD is truncated: its merged picture ends past the end of the file")
        if kind == 1:
            count = 4 if psb else 2
            table = fh.read(rows * count)
            if len(table) < rows * count:
                raise refuse(label, "the PSD is truncated: its merged picture ends past the end of the file")
            total = sum(struct.unpack(f">{rows}{'I' if psb else 'H'}", table))
            if total > left - rows * count:
                raise refuse(label, "the PSD is truncated: its merged picture ends past the end of the file")


MAX_RECORD_BYTES = 64 << 20  # the layer records come first in the layer section; their channel data follows


def _check_layer_records(section: bytes, psb: bool, label: str) -> None:
    """Each layer record's box (the size limits) and name (no control characters), read from the bytes
    without psd-tools: a record is its box, its channel list, its blend mode, flags, then extra data holding
    the mask, the blending ranges, the Pascal name and tagged blocks (the Unicode name, `luni`)."""
    try:
        wide = 8 if psb else 4
        pos = wide  # the layer info's own length
        (count,) = struct.unpack_from(">h", section, pos)
        pos += 2
        for _ in range(min(abs(count), MAX_LAYERS * 8)):  # group dividers are records too
            top, left, bottom, right, channels = struct.unpack_from(">iiiiH", section, pos)
            pos += 18 + channels * (2 + wide) + 12
            (extra,) = struct.unpack_from(">I", section, pos)
            pos += 4
            end = pos + extra
            (mask_len,) = struct.unpack_from(">I", section, pos)
            pos += 4 + mask_len
            (ranges_len,) = struct.unpack_from(">I", section, pos)
            pos += 4 + ranges_len
            name_len = section[pos]
            name = section[pos + 1 : pos + 1 + name_len].decode("latin-1")
            pos += (1 + name_len + 3) // 4 * 4
            while pos + 12 <= end:  # tagged blocks: '8BIM' or '8B64', a key, a length
                key = section[pos + 4 : pos + 8]
                (block_len,) = struct.unpack_from(">I", section, pos + 8)
                if key == b"luni" and block_len >= 4:
                    (chars,) = struct.unpack_from(">I", section, pos + 12)
                    name = section[pos + 16 : pos + 16 + 2 * chars].decode("utf-16-be", errors="replace")
                pos += 12 + block_len + (block_len & 1)
            check_name(label, name, name)
            if bottom - top > 0 and right - left > 0:
                why = size_problem(right - left, bottom - top, "the layer")
                if why is not None:
                    raise refuse(label, why, name)
            pos = end
    except (struct.error, IndexError):
        return  # records this reading does not follow: psd-tools reads them, and the later checks apply


def read_psd(path: Path, label: str) -> Comp:
    """The comp a PSD holds: its visible leaf layers, bottom to top, bounded (`bounds`)."""
    precheck(path, label)
    data = _read_bounded(path, label)
    read_header(data, label)
    psd = _parse(data, label)
    import numpy as np

    comp = Comp(label, psd.width, psd.height)
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

    try:
        from psd_tools import PSDImage
    except ImportError:
        raise DeditError("reading PSD files needs psd-tools: pip install 'designedit[design]'") from None

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

