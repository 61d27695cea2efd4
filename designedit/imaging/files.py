"""Picture files by content: their SHA-256 and their decoded pixels, each computed once while the file is
unchanged on disk (recipes, the compiler and the caches key on them)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from designedit.imaging.pictures import has_transparency, open_picture


def file_version(st) -> tuple:
    """What tells one content of a file from the next without reading it: a rewrite changes the change time
    even where the modification time is put back (`cp -p`, `rsync -t`), a replacement the inode."""
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)


@lru_cache(maxsize=256)
def _file_sha256_cached(path: str, version: tuple) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    return _file_sha256_cached(str(path), file_version(Path(path).stat()))


@lru_cache(maxsize=2)  # at most two decoded pictures held (40 MP RGBA is 160 MB)
def _decoded_cached(path: str, version: tuple) -> np.ndarray:
    im = open_picture(Path(path))
    pic = np.asarray(im.convert("RGBA" if has_transparency(im) else "RGB"), dtype=np.uint8)
    pic.flags.writeable = False  # shared by every recipe that loads this file
    return pic


def _decoded(path: Path) -> np.ndarray:
    """The picture as RGB, or RGBA where it has transparency: a scene's recipes (background, each layer,
    each copy) mostly load the same file, decoded once here while it is unchanged on disk."""
    return _decoded_cached(str(path), file_version(path.stat()))


def has_alpha(path: Path) -> bool:
    """Whether a picture has transparency (read from the decode that recipes share)."""
    return _decoded(Path(path)).shape[2] == 4
