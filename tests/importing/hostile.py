"""Hostile and broken comps, made here byte by byte: each is what an attacker or a crash could leave."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from comps import DESIGN

STACK = ("<?xml version='1.0' encoding='UTF-8'?>\n<image w=\"64\" h=\"48\">\n<stack>\n{layers}\n</stack>\n</image>\n")


def png(width: int = 8, height: int = 8) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 10, 10, 255)).save(buf, "PNG")
    return buf.getvalue()


def ora(members: dict[str, bytes], stack: str, compress: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", b"image/openraster", compress_type=zipfile.ZIP_STORED)
        zf.writestr("stack.xml", stack.encode("utf-8"))
        for name, data in members.items():
            zf.writestr(name, data, compress_type=compress)
    return buf.getvalue()


def layer(name: str, src: str, x: int = 0, y: int = 0) -> str:
    return f'<layer name="{name}" src="{src}" x="{x}" y="{y}"/>'


def zip_bomb() -> bytes:
    """A member that inflates from about 64 kB to 64 MB (zeros, deflated)."""
    return ora({"data/bg.png": png(64, 48), "data/bomb.png": bytes(64 << 20)},
               STACK.format(layers=layer("bomb", "data/bomb.png") + layer("background", "data/bg.png")),
               compress=zipfile.ZIP_DEFLATED)


def traversal() -> bytes:
    return ora({"data/bg.png": png(64, 48), "../../evil.png": png()},
               STACK.format(layers=layer("evil", "../../evil.png") + layer("background", "data/bg.png")))


def entity() -> bytes:
    stack = ('<?xml version="1.0"?>\n<!DOCTYPE image [<!ENTITY e "x">]>\n<image w="64" h="48"><stack>'
             + layer("background&e;", "data/bg.png") + "</stack></image>")
    return ora({"data/bg.png": png(64, 48)}, stack)


def huge_layer_header() -> bytes:
    """A layer PNG whose header claims 17000x10 pixels (its data is not even there)."""
    header = png(8, 8)
    ihdr = struct.pack(">IIBBBBB", 17000, 10, 8, 6, 0, 0, 0)
    import zlib

    chunk = b"IHDR" + ihdr
    fake = header[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + header[33:]
    return ora({"data/bg.png": png(64, 48), "data/big.png": fake},
               STACK.format(layers=layer("big", "data/big.png") + layer("background", "data/bg.png")))


def ora_control_name() -> bytes:
    return ora({"data/bg.png": png(64, 48), "data/a.png": png()},
               STACK.format(layers=layer("ball&#10;rm -rf", "data/a.png") + layer("background", "data/bg.png")))


def psd_header(width: int, height: int) -> bytes:
    return b"8BPS" + struct.pack(">H6sHIIHH", 1, b"\0" * 6, 3, height, width, 8, 3) + bytes(64)


def truncated(name: str) -> bytes:
    data = (DESIGN / name).read_bytes()
    return data[: len(data) // 2]


def psd_control_name() -> bytes:
    """move.psd with its layer 'ball' renamed 'b\\x07ll' (the Pascal name and the Unicode name both)."""
    data = (DESIGN / "move.psd").read_bytes()
    data = data.replace(b"\x04ball", b"\x04b\x07ll").replace("ball".encode("utf-16-be"), "b\x07ll".encode("utf-16-be"))
    return data


def psd_huge_layer() -> bytes:
    """move.psd with the ball's layer record claiming a box 19934 pixels wide."""
    data = (DESIGN / "move.psd").read_bytes()
    record = struct.pack(">iiii", 152, 66, 182, 108)
    assert data.count(record) == 1
    return data.replace(record, struct.pack(">iiii", 152, 66, 182, 20000))


# (case, file name, bytes maker, what stderr says)
CASES = [
    ("zip bomb", "bomb.ora", zip_bomb, "inflates 1"),
    ("path traversal", "evil.ora", traversal, "which points outside it"),
    ("entity declaration", "entity.ora", entity, "DTD or entity declaration"),
    ("layer header past the limit", "big.ora", huge_layer_header, "above the limit of 16384 pixels per side"),
    ("control character in an OpenRaster name", "name.ora", ora_control_name, "its name holds a control character"),
    ("PSD header 30000x30000", "huge.psd", lambda: psd_header(30000, 30000), "30000x30000 pixels, above the limit"),
    ("PSD header 9000x9000 (81 MP)", "wide.psd", lambda: psd_header(9000, 9000), "above the limit of 40 megapixels"),
    ("truncated PSD", "cut.psd", lambda: truncated("move.psd"), "the PSD is truncated"),
    ("truncated OpenRaster", "cut.ora", lambda: truncated("move.ora"), "damaged or truncated"),
    ("PSD layer box past the limit", "box.psd", psd_huge_layer, "layer 'ball': the layer is 19934x30 pixels, above the limit"),
    ("control character in a PSD name", "name.psd", psd_control_name, "layer 'b\\x07ll': its name holds a control character"),
    ("not a comp", "photo.psd", lambda: png(), "neither a PSD nor an OpenRaster file"),
]


def write(folder: Path, name: str, maker) -> Path:
    path = folder / name
    path.write_bytes(maker())
    return path
