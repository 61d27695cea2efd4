"""Reading a scene file's text exactly, and writing an edit of it back only over the text it was made from.

The studio and `dedit import --onto` rewrite a scene while a person may be editing the same file in a text
editor: the file is the truth, so an edit computed from an older text must not overwrite a newer one.

    text = read_scene_text(path)            # as the reader decodes it: no byte order mark, CR LF kept
    new = patch.move_layer(text, ...)
    write_if_unchanged(path, text, new)     # False, and nothing written, if the file changed meanwhile

The file keeps its encoding and byte order mark (UTF-8, or UTF-16 for XML) and its permissions; the write is
atomic (`io.atomic`). The file is compared once before the new text is written to a temporary file and once
more just before the rename: what remains is a window of one system call, which only a lock every editor
honoured could close.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Union

from designedit.errors import DeditError, SceneError
from designedit.io import encoding, read_document_bytes
from designedit.io.atomic import atomic_write

__all__ = ["read_scene_text", "write_if_unchanged"]

_CODECS = {codecs.BOM_UTF8: "utf-8", codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}


class _Changed(Exception):
    """The file no longer holds the text the edit was made from."""


def read_scene_text(path: Union[str, Path]) -> str:
    """The text of a scene file as the reader decodes it (SceneError when it cannot): line ends as written,
    without the byte order mark."""
    return encoding.decode(read_document_bytes(path), str(path)).text


def _bom_and_codec(raw: bytes) -> tuple[bytes, str]:
    for bom, codec in _CODECS.items():
        if raw.startswith(bom):
            return bom, codec
    return b"", "utf-8"


def _current_text(path: Path) -> tuple[str, bytes]:
    raw = read_document_bytes(path)
    return encoding.decode(raw, str(path)).text, raw


def write_if_unchanged(path: Union[str, Path], old_text: str, new_text: str) -> bool:
    """Replace the file's text `old_text` with `new_text`, atomically, in the file's encoding; False (and
    nothing written) when the file no longer holds `old_text` (or is gone, or no longer reads as text).
    A link is followed: its target is rewritten. OSError on a write that fails (a full disk)."""
    target = Path(path).resolve()
    old_text, new_text = old_text.removeprefix("\ufeff"), new_text.removeprefix("\ufeff")

    def unchanged() -> bytes:
        try:
            text, raw = _current_text(target)
        except SceneError:  # gone, or no longer a text the reader reads: either way not the old text
            raise _Changed() from None
        if text != old_text:
            raise _Changed()
        return raw

    try:
        raw = unchanged()
    except _Changed:
        return False
    if new_text == old_text:
        return True
    bom, codec = _bom_and_codec(raw)
    try:
        data = bom + new_text.encode(codec)
    except UnicodeEncodeError as exc:  # a lone surrogate: no scene text holds one
        raise DeditError(f"cannot write {path}: the new text is not {codec.upper()} text") from exc
    try:
        atomic_write(target, data, last_check=unchanged)
    except _Changed:
        return False
    return True
