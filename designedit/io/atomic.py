"""Atomic file writing: a temporary file in the same folder, then `os.replace`.

A crash or Ctrl-C never leaves half a file: the destination is either the old
file or the complete new one; a write that fails (a full disk) also removes the
folders it created for the file. The result gets the existing file's permissions,
or the usual ones for a new file (0666 less the umask; mkstemp alone would
leave 0600).

It lives in io (rank 4) so that rewriting a scene file in place (`io.scene_file`) is atomic too;
`rendering.atomic` re-exports it with the checks and messages commands use.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator, Optional


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


# Called just before each rename that makes an output visible (the CLI holds Ctrl-C and SIGTERM from then on,
# so a result it committed is not reported as interrupted); set for a block of writes with `before_commit`.
_commit_hook: ContextVar[Optional[Callable[[], None]]] = ContextVar("dedit_commit_hook", default=None)


@contextmanager
def before_commit(hook: Optional[Callable[[], None]]) -> Iterator[None]:
    """Inside: `hook()` (if not None) runs just before every rename by `atomic_write` (a signal raised by then
    has unwound the write and left nothing; one after it cannot undo the file)."""
    token = _commit_hook.set(hook)
    try:
        yield
    finally:
        _commit_hook.reset(token)


def atomic_write(path: Path, data: bytes, *, last_check: Optional[Callable[[], None]] = None) -> Path:
    """Write `data` to `path` atomically, creating missing parent folders; OSError propagates, and a write
    that fails (or is interrupted) leaves neither its temporary file nor any folder it created.
    `last_check()` runs just before the rename, when all is written: what it raises cancels the write."""
    path = Path(path)
    folder = _folder_of(path)
    created = _make_folders(folder)
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except BaseException:
        _remove_empty(created)
        raise
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if last_check is not None:
            last_check()
        hook = _commit_hook.get()
        if hook is not None:
            hook()
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        _remove_empty(created)
        raise
    return path


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; the ones created, deepest first."""
    missing = []
    probe = folder
    while not probe.exists() and not probe.is_symlink() and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except BaseException:  # a full disk can refuse a folder too: undo the ones made
        _remove_empty([f for f in missing if f.is_dir()])
        raise
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed write created (deepest first), as long as they are empty: another writer
    may have put something there meanwhile."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
