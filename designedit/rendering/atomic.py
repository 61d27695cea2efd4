"""Atomic file writing: a temporary file in the same folder, then `os.replace`.

A crash or Ctrl-C never leaves half a file: the destination is either the old
file or the complete new one; a write that fails (a full disk) also removes the
folders it created for the file. The result gets the existing file's permissions,
or the usual ones for a new file (0666 less the umask; mkstemp alone would
leave 0600).

`why_unwritable` answers, before any work, whether a later `atomic_write`
could succeed: it probes with the same kind of temporary file and writes
nothing that stays. `atomic_write_bytes` is the writer every command uses: a
write that still fails (a full disk) becomes one sentence, a DeditError.
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator, Optional

from designedit.errors import DeditError


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


def atomic_write(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically, creating missing parent folders; OSError propagates, and a write
    that fails (or is interrupted) leaves neither its temporary file nor any folder it created."""
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


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """`atomic_write`, with an OSError turned into DeditError: "cannot write PATH: why." (exit status 1)."""
    path = Path(path)
    try:
        return atomic_write(path, data)
    except OSError as exc:
        why = why_unwritable(path) or os_error_reason(exc, _folder_of(path))
        raise DeditError(f"cannot write {path}: {why}.") from exc


def os_error_reason(exc: OSError, folder: Path) -> str:
    """A few plain words for why writing in `folder` failed (no errno names, no exception classes)."""
    if exc.errno == errno.EROFS:
        return f"{folder} is on a read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied in {folder}"
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device holding {folder}"
    text = (exc.strerror or str(exc)).rstrip(".")
    return text[:1].lower() + text[1:]


def nearest_existing(path: Path) -> Path:
    """`path`, or the nearest folder above it that exists (or is a link): where missing folders would start."""
    probe = Path(path)
    while not probe.exists() and not probe.is_symlink() and probe.parent != probe:
        probe = probe.parent
    return probe


def folder_problem(probe: Path) -> Optional[str]:
    """Why an existing `probe` cannot hold new folders and files, in a few words; None when it can."""
    if probe.is_symlink() and not probe.exists():
        return f"{probe} is a broken link"
    if not probe.is_dir():
        return f"{probe} is a file, not a folder"
    return None


def why_unwritable(path: Path, folder: bool = False) -> Optional[str]:
    """Why `path` cannot be written (a file, or with `folder=True` a folder to write files into), in a
    few words; None when it can. Missing folders are not created: the nearest existing one is probed
    with a temporary file (created and removed at once, as `atomic_write` would), since that is where
    the missing ones would be made."""
    path = Path(path)
    if folder:
        if path.exists() and not path.is_dir():
            return f"{path} is a file, not a folder"
        target = path
    else:
        if path.is_dir():
            return f"{path} is a folder, not a file"
        target = _folder_of(path)
    probe = nearest_existing(target)
    why = folder_problem(probe)
    if why is not None:
        return why
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=probe)
    except OSError as exc:
        return os_error_reason(exc, probe)
    os.close(fd)
    os.unlink(tmp)
    return None
