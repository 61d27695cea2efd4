"""Deciding a document's encoding before anything reads its text (spec/format.md 1.1).

The encoding is told by the bytes alone, in this order: a byte order mark (UTF-8, or UTF-16, which XML 1.0
requires processors to read; UTF-32 is refused), else the pattern of NUL bytes in the first four (UTF-16 or
UTF-32 without a mark: refused, since their NUL bytes would pass for UTF-8 and hide the markup from every
check), else UTF-8. Every later check, and lxml, see the decoded text only.
"""

from __future__ import annotations

from typing import NamedTuple

from designedit.errors import Problem, SceneError
from designedit.model.source import LineIndex

UTF8 = "UTF-8"
UTF16 = "UTF-16"

_BOMS = [  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "UTF-32", None),
    (b"\x00\x00\xfe\xff", "UTF-32", None),
    (b"\xef\xbb\xbf", UTF8, "utf-8"),
    (b"\xff\xfe", UTF16, "utf-16-le"),
    (b"\xfe\xff", UTF16, "utf-16-be"),
]
# XML 1.0 appendix F: what '<' (or any ASCII character) looks like in the wider encodings, without a mark
_NUL_PATTERNS = [
    (lambda b: b[:3] == b"\x00\x00\x00" and b[3:4] != b"\x00", "UTF-32 (big-endian)"),
    (lambda b: b[0:1] != b"\x00" and b[1:4] == b"\x00\x00\x00", "UTF-32 (little-endian)"),
    (lambda b: b[0:1] == b"\x00" and b[1:2] != b"\x00" and b[2:3] == b"\x00", "UTF-16 (big-endian)"),
    (lambda b: b[0:1] != b"\x00" and b[1:2] == b"\x00" and b[2:3] != b"\x00" and b[3:4] == b"\x00", "UTF-16 (little-endian)"),
]
_ALLOWED = "UTF-8, or UTF-16 with a byte order mark for the XML form"

_PICTURE_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"RIFF": "WebP", b"II*\x00": "TIFF",
                  b"MM\x00*": "TIFF", b"BM": "BMP"}


class Decoded(NamedTuple):
    text: str  # without the byte order mark
    encoding: str  # UTF8 or UTF16


def _picture_kind(raw: bytes) -> str | None:
    for magic, kind in _PICTURE_MAGIC.items():
        if raw.startswith(magic) and (kind != "WebP" or raw[8:12] == b"WEBP"):
            return kind
    return None


def _position(text_before: str) -> str:
    line, col = LineIndex(text_before).position(len(text_before))
    return f"{line}:{col}"


def decode(raw: bytes, label: str) -> Decoded:
    """The document's text, or SceneError (one located sentence) when its encoding is not one .dedit reads."""
    try:
        return _decode(raw, label)
    except SceneError:
        kind = _picture_kind(raw)
        if kind is not None:  # a picture given where a scene belongs: say so, not "not UTF-8"
            raise SceneError(Problem(label, f"this is a {kind} picture, not a .dedit document")) from None
        raise


def _decode(raw: bytes, label: str) -> Decoded:
    codec, name, body = "utf-8", UTF8, raw
    for bom, bom_name, bom_codec in _BOMS:
        if raw.startswith(bom):
            if bom_codec is None:
                raise SceneError(Problem(label, f"the document is {bom_name}; .dedit documents are {_ALLOWED}"))
            codec, name, body = bom_codec, bom_name, raw[len(bom):]
            break
    else:
        for looks, what in _NUL_PATTERNS:
            if len(raw) >= 4 and looks(raw[:4]):
                raise SceneError(Problem(label, f"the document looks like {what} without a byte order mark; "
                                                f".dedit documents are {_ALLOWED}"))
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        where = _position(body[: exc.start].decode(codec, errors="replace"))
        what = f"byte 0x{body[exc.start]:02x} here" if name == UTF8 else "a broken character here"
        raise SceneError(Problem(f"{label}:{where}", f"the document is not {name} text ({what})")) from None
    nul = text.find("\x00")
    if nul != -1:  # no form allows it, and lxml would refuse it in words of its own
        raise SceneError(Problem(f"{label}:{_position(text[:nul])}",
                                 "the document holds a NUL character (U+0000), which .dedit documents do not allow"))
    return Decoded(text, name)
