"""Atomic file writing: a temporary file in the same folder, then `os.replace`.

A crash or Ctrl-C never leaves half a file: the destination is either the old
file or the complete new one; a write that fails (a full disk) also removes the
folders it created for the file. The result gets the existing file's permissions,
or the usual ones for a new file (0666 less the umask; mkstemp alone would
leave 0600).

`why_unwritable` answers, before any work, whether a later `atomic_write`
could succeed: it probes with the same kind of temporary file and writes
nothing that stays. `atomic_write` itself (and `before_commit`) live in `io.atomic`, re-exported here.
`atomic_write_bytes` is the writer every command uses: a
write that still fails (a full disk) becomes one sentence, a DeditError.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Optional

from designedit.errors import DeditError
from designedit.io.atomic import _folder_of, atomic_write, before_commit  # noqa: F401 - re-exported: the writer moved down to io


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
