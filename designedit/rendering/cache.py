"""A content-addressed on-disk cache (no torch): bytes by key, size-bounded, LRU.

Used by renderers for what is costly to recompute and keyed by content, such
as DDIM inversion trajectories (image recipe key, model, steps, prompt, size)
and reusable branch latents. API:

    cache = Cache(root=None, max_bytes=None)  # None: $DEDIT_CACHE_SIZE, else 4 GiB
    key = cache_key("inversion", image.key, model_id, steps, prompt, 1024, 1024)
    data = cache.get(key)            # bytes, or None on a miss
    cache.put(key, data)             # True if stored
    arrays = cache.get_arrays(key)   # dict[str, np.ndarray] or None (npz inside)
    cache.put_arrays(key, {"z": z})  # numpy only; convert tensors with .cpu().numpy()

Guarantees:
- the root is `root`, else $DEDIT_CACHE_DIR, else $XDG_CACHE_HOME/dedit, else
  ~/.cache/dedit (`--cache-dir` passes `root`);
- every entry carries its length and SHA-256; a truncated, corrupt or
  unreadable entry is a miss (and is deleted), never an error, and
  `take_discarded()` gives a warning for each such entry found;
- writes are atomic (temporary file + os.replace), so a crash mid-write
  leaves no entry rather than a partial one, and concurrent writers of the
  same key are harmless;
- after each put the cache is trimmed to `max_bytes` (default: $DEDIT_CACHE_SIZE,
  else 4 GiB; `--cache-size` passes it), evicting the entries least recently
  used (a hit refreshes an entry's modification time); an entry larger than the
  bound is not stored, so a bound of 0 turns writing off;
- the cache is an optimisation: an I/O error on put is swallowed (returns
  False) and on get reads as a miss.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Optional

import numpy as np

from designedit.rendering.atomic import folder_problem, nearest_existing

DEFAULT_MAX_BYTES = 4 * 1024**3
_MAGIC = b"DEDITC1\n"
_HEADER = struct.Struct(">8sQ32s")  # magic, payload length, sha256(payload)
_LAYOUT = "v1"


CACHE_DIR_ENV = "DEDIT_CACHE_DIR"


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "dedit"


def default_max_bytes() -> int:
    """$DEDIT_CACHE_SIZE (as --cache-size: 4G, 500M, 2GB...), else DEFAULT_MAX_BYTES."""
    text = os.environ.get("DEDIT_CACHE_SIZE", "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    from designedit.checks.arguments import byte_size

    return byte_size(text, "DEDIT_CACHE_SIZE")


def cache_key(*parts: Any) -> str:
    """A stable key from JSON-serialisable parts (order matters)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Cache:
    def __init__(self, root: Optional[Path | str] = None, max_bytes: Optional[int] = None):
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self.max_bytes = int(max_bytes) if max_bytes is not None else default_max_bytes()
        self.hits = 0
        self.misses = 0
        self.discarded: list[str] = []  # warnings: damaged entries deleted (take_discarded)

    # ------------------------------------------------------------ bytes

    def path_for(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.root / _LAYOUT / digest[:2] / f"{digest[2:]}.bin"

    def get(self, key: str) -> Optional[bytes]:
        path = self.path_for(key)
        try:
            raw = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        payload, damage = _unwrap(raw)
        if payload is None:  # partial or corrupt: drop it so it is rebuilt
            self._discard(path, damage)
            self.misses += 1
            return None
        try:
            os.utime(path)  # most recently used
        except OSError:
            pass
        self.hits += 1
        return payload

    def put(self, key: str, data: bytes) -> bool:
        data = bytes(data)
        if _HEADER.size + len(data) > self.max_bytes:
            return False
        path = self.path_for(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(_HEADER.pack(_MAGIC, len(data), hashlib.sha256(data).digest()))
                fh.write(data)
            os.replace(tmp, path)
            tmp = None
        except OSError:
            return False
        finally:
            if tmp is not None:
                _unlink(Path(tmp))
        self.trim(keep=path)
        return True

    def __contains__(self, key: str) -> bool:
        return self.path_for(key).is_file()

    # ------------------------------------------------------------ arrays

    def get_arrays(self, key: str) -> Optional[dict[str, np.ndarray]]:
        data = self.get(key)
        if data is None:
            return None
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                return {name: npz[name] for name in npz.files}
        except (OSError, ValueError, EOFError):  # checksummed, so only a foreign writer gets here
            self._discard(self.path_for(key), "its arrays cannot be read")
            return None

    def _discard(self, path: Path, damage: str) -> None:
        _unlink(path)
        self.discarded.append(f"the cache entry {path} was damaged ({damage}); it was discarded and what it held "
                              "is computed again")

    def take_discarded(self) -> list[str]:
        """One sentence (a warning) for each damaged entry found and deleted since the last call."""
        said, self.discarded = self.discarded, []
        return said

    def put_arrays(self, key: str, arrays: dict[str, np.ndarray]) -> bool:
        buf = io.BytesIO()
        np.savez(buf, **{name: np.asarray(a) for name, a in arrays.items()})
        return self.put(key, buf.getvalue())

    # ------------------------------------------------------------ size bound

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last use, size, path) of every entry, oldest first."""
        found = []
        base = self.root / _LAYOUT
        if not base.is_dir():
            return found
        for sub in base.iterdir():
            if not sub.is_dir():
                continue
            for entry in sub.iterdir():
                if entry.suffix != ".bin":
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                found.append((st.st_mtime, st.st_size, entry))
        found.sort(key=lambda e: e[0])
        return found

    def size_bytes(self) -> int:
        return sum(size for _, size, _ in self.entries())

    def trim(self, keep: Optional[Path] = None) -> None:
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            _unlink(path)
            total -= size

    def clear(self) -> None:
        for _, _, path in self.entries():
            _unlink(path)


def _unwrap(raw: bytes) -> tuple[Optional[bytes], str]:
    """(the payload, "") of an entry, or (None, what is wrong with it in a few words)."""
    if len(raw) < _HEADER.size:
        return None, "cut short"
    magic, length, digest = _HEADER.unpack_from(raw)
    payload = raw[_HEADER.size :]
    if magic != _MAGIC:
        return None, "not a dedit cache entry"
    if length != len(payload):
        return None, "cut short" if len(payload) < length else "longer than it says"
    if hashlib.sha256(payload).digest() != digest:
        return None, "its checksum does not match"
    return payload, ""


def cache_dir_problem(root: Path | str) -> Optional[str]:
    """Why `root` cannot be the cache folder, in a few words: it, or the nearest folder above it that exists
    (missing folders are made with the first entry), is a file. None when it can be. (A folder that cannot be
    written is not refused: the cache is an optimisation, and a shared read-only one still serves hits.)"""
    return folder_problem(nearest_existing(Path(root).expanduser()))


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
