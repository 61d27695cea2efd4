"""OpenRaster comps: a zip of `stack.xml` and one PNG per layer, read without extracting anything.

The archive is checked before any member is inflated: member names (no absolute paths, no `..`, no
backslashes), their number, their declared sizes and compression ratios (a zip bomb is refused from its
directory), and each member is read with a bound whatever its header says. `stack.xml` is parsed as the
scene reader parses XML: no DTD, no entities, no network. Each layer PNG's size is checked from its header
before it is decoded.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Optional

from designedit.importing.bounds import (MAX_COMP_BYTES, MAX_INFLATED_BYTES, MAX_LAYERS, MAX_MEMBER_BYTES,
                                         MAX_MEMBERS, MAX_RATIO, MAX_STACK_BYTES, size_problem)
from designedit.importing.comp import Comp, CompLayer, check_name, refuse
from designedit.model.quoting import LONG, quote

_DECLARATION = re.compile(r"<!(?!--|\[CDATA\[)")
_NORMAL_OPS = {"", "svg:src-over"}
DEDIT_NAMESPACE = "urn:x-dedit:openraster"  # rendering.ora writes it (importing it here would load OpenCV)
_RECORDED_X, _RECORDED_Y = f"{{{DEDIT_NAMESPACE}}}x", f"{{{DEDIT_NAMESPACE}}}y"


@dataclass
class StackEntry:
    """A layer element of stack.xml as written: its name, path with groups, offset and src."""

    name: str
    path: str
    src: str
    x: int
    y: int
    visible: bool
    opacity: float
    blend: str
    recorded: Optional[tuple[int, int]] = None  # dedit:x/y, where `dedit render --layers` put the layer


def precheck(path: Path, label: str) -> None:
    """What can be refused from the archive's directory, stack.xml and each layer PNG's header (its first
    24 bytes, read without Pillow), before any picture is decoded."""
    with open_archive(path, label) as archive:
        for entry in read_stack(archive, label)[2]:
            if _unsafe_name(entry.src):
                raise refuse(label, f"its src {quote(entry.src, LONG)} points outside the archive", entry.path)
            head = archive.read_head(entry.src, 24)
            if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
                width, height = struct.unpack(">II", head[16:24])
                why = size_problem(width, height, "its picture")
                if why is not None:
                    raise refuse(label, why, entry.path)


def read_ora(path: Path, label: str) -> Comp:
    """The comp an OpenRaster file holds: its visible leaf layers, bottom to top, bounded (`bounds`)."""
    import numpy as np

    with open_archive(path, label) as archive:
        width, height, entries = read_stack(archive, label)
        comp = Comp(label, width, height)
        for entry in entries:
            if not entry.visible:
                continue
            rgba = layer_pixels(archive, entry, label)
            comp.layers.append(CompLayer(name=entry.name, path=entry.path, rgba=np.asarray(rgba), x=entry.x,
                                         y=entry.y, opacity=entry.opacity, blend=entry.blend))
    return comp


class _Archive:
    """An opened, checked OpenRaster archive (its members' names and sizes vetted)."""

    def __init__(self, zf: zipfile.ZipFile, label: str):
        self.zf, self.label = zf, label
        self.members = {info.filename: info for info in zf.infolist()}

    def read(self, name: str, limit: int) -> bytes:
        info = self.members.get(name)
        if info is None:
            raise refuse(self.label, f"the archive has no member {quote(name, LONG)}, which stack.xml names")
        if info.file_size > limit:
            raise refuse(self.label, f"the member {quote(name, LONG)} inflates to {info.file_size} bytes, above the limit of {limit}")
        try:
            with self.zf.open(info) as fh:
                data = fh.read(limit + 1)  # bounded whatever the header declared
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            raise refuse(self.label, f"the member {quote(name, LONG)} cannot be read: the file is damaged or truncated") from None
        if len(data) > limit:
            raise refuse(self.label, f"the member {quote(name, LONG)} inflates past the limit of {limit} bytes")
        return data

    def read_head(self, name: str, size: int) -> bytes:
        """The first `size` bytes of a member (b"" when there is no such member: the full read says so)."""
        info = self.members.get(name)
        if info is None:
            return b""
        try:
            with self.zf.open(info) as fh:
                return fh.read(size)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            raise refuse(self.label, f"the member {quote(name, LONG)} cannot be read: the file is damaged or truncated") from None

    def __enter__(self) -> "_Archive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.zf.close()


def open_archive(path: Path, label: str) -> _Archive:
    if path.stat().st_size > MAX_COMP_BYTES:
        raise refuse(label, f"the file is larger than {MAX_COMP_BYTES >> 20} MB, the limit for a comp")
    try:
        zf = zipfile.ZipFile(open(path, "rb"))  # read-only: the comp is never written
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise refuse(label, "this is not an OpenRaster file: it is not a readable zip archive (damaged or truncated?)") from None
    try:
        _check_members(zf, label)
    except BaseException:
        zf.close()
        raise
    return _Archive(zf, label)


def _check_members(zf: zipfile.ZipFile, label: str) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise refuse(label, f"the archive holds {len(infos)} files, more than the {MAX_MEMBERS} an OpenRaster comp may")
    total = 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise refuse(label, f"the archive holds a file named {quote(name, LONG)}, which points outside it; the file is refused")
        total += info.file_size
        if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise refuse(label, f"the member {quote(name, LONG)} inflates {info.file_size // max(info.compress_size, 1)} times (a zip bomb); the file is refused")
    if total > MAX_INFLATED_BYTES:
        raise refuse(label, f"the archive inflates to {total} bytes, above the limit of {MAX_INFLATED_BYTES}")
    if "stack.xml" not in {i.filename for i in infos}:
        raise refuse(label, "this is not an OpenRaster file: the archive has no stack.xml")


def _unsafe_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return ".." in PurePosixPath(name).parts


def read_stack(archive: _Archive, label: str) -> tuple[int, int, list[StackEntry]]:
    """(width, height, every layer element bottom to top with its groups' visibility and opacity folded in)."""
    root = parse_stack_xml(archive.read("stack.xml", MAX_STACK_BYTES), label)
    width, height = _whole(root.get("w"), label, "the image's w"), _whole(root.get("h"), label, "the image's h")
    why = size_problem(width, height, "the canvas")
    if why is not None:
        raise refuse(label, why)
    stack = next((child for child in root if child.tag == "stack"), None)
    if stack is None:
        raise refuse(label, "stack.xml has no <stack> in its <image>")
    entries = list(_walk(stack, "", 0, 0, True, 1.0, "", label))
    if len(entries) > MAX_LAYERS:
        raise refuse(label, f"the comp has more than {MAX_LAYERS} layers, the limit")
    return width, height, entries[::-1]  # OpenRaster lists the topmost first


def parse_stack_xml(data: bytes, label: str) -> Any:
    """stack.xml's root element, parsed safely (no DTD, no entities, no network, no huge trees)."""
    from lxml import etree

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise refuse(label, "stack.xml is not UTF-8 text") from None
    if _DECLARATION.search(text):
        raise refuse(label, "stack.xml holds a DTD or entity declaration, which is refused for safety")
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        raise refuse(label, "stack.xml is not well-formed XML") from None
    if root.tag != "image":
        raise refuse(label, "stack.xml's root is not <image>")
    return root


def _walk(stack: Any, prefix: str, x0: int, y0: int, visible: bool, opacity: float, blend: str,
          label: str) -> Iterator[StackEntry]:
    """Layer elements under `stack`, topmost first (as written), with the offsets, visibility, opacity and a
    blend other than normal of the stacks above them folded in."""
    for child in stack:
        if not isinstance(child.tag, str) or child.tag not in ("stack", "layer"):
            continue  # comments, text elements and other extensions are not layers
        name = child.get("name", "")
        path = prefix + name
        check_name(label, path, path)
        x = x0 + _whole(child.get("x", "0"), label, "x", path)
        y = y0 + _whole(child.get("y", "0"), label, "y", path)
        shown = visible and child.get("visibility", "visible") != "hidden"
        alpha = opacity * _fraction(child.get("opacity", "1"), label, path)
        op = child.get("composite-op", "")
        own = "" if op in _NORMAL_OPS or (child.tag == "stack" and op == "svg:pass-through") else op.split(":")[-1]
        if child.tag == "stack":
            yield from _walk(child, f"{path}/", x, y, shown, alpha, own or blend, label)
        else:
            recorded = None
            if child.get(_RECORDED_X) is not None and child.get(_RECORDED_Y) is not None:
                recorded = (x0 + _whole(child.get(_RECORDED_X), label, "dedit:x", path),
                            y0 + _whole(child.get(_RECORDED_Y), label, "dedit:y", path))
            yield StackEntry(name, path, child.get("src", ""), x, y, shown, alpha, own or blend, recorded)


def _whole(value: Optional[str], label: str, what: str, path: Optional[str] = None) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise refuse(label, f"{what} must be a whole number of pixels, not {quote(str(value))}", path) from None
    if abs(number) > 1 << 20:
        raise refuse(label, f"{what} is {number}, far outside any canvas", path)
    return number


def _fraction(value: str, label: str, path: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise refuse(label, f"opacity must be a number from 0 to 1, not {quote(value)}", path) from None
    if not 0.0 <= number <= 1.0:
        raise refuse(label, f"opacity must be a number from 0 to 1, not {quote(value)}", path)
    return number


def layer_pixels(archive: _Archive, entry: StackEntry, label: str) -> Any:
    """The layer's PNG as RGBA, its size checked from the header before decoding."""
    from PIL import Image as PILImage
    import numpy as np

    if _unsafe_name(entry.src):
        raise refuse(label, f"its src {quote(entry.src, LONG)} points outside the archive", entry.path)
    data = archive.read(entry.src, MAX_MEMBER_BYTES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)  # the limit below is ours
            im = PILImage.open(io.BytesIO(data))
    except PILImage.DecompressionBombError:
        raise refuse(label, f"its picture {quote(entry.src, LONG)} is far above the limit of 40 megapixels", entry.path) from None
    except Exception:  # noqa: BLE001 - Pillow's decoders refuse in many ways
        raise refuse(label, f"its picture {quote(entry.src, LONG)} is not a PNG this import can read", entry.path) from None
    why = size_problem(im.width, im.height, "its picture")
    if why is not None:
        raise refuse(label, why, entry.path)
    try:
        return np.asarray(im.convert("RGBA"), dtype=np.uint8)
    except Exception:  # noqa: BLE001
        raise refuse(label, f"its picture {quote(entry.src, LONG)} is damaged or truncated", entry.path) from None


__all__ = ["precheck", "read_ora", "open_archive", "read_stack", "layer_pixels", "parse_stack_xml", "StackEntry"]
