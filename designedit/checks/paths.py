"""File references: relative to the document, `/`-separated, confined to the allowed root.

A reference that is absolute, a URL, uses backslashes, or resolves (after
following symlinks) outside the root is refused with a SceneError whose
location is the place in the document that named it.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path, PurePosixPath

from designedit.errors import Problem, SceneError
from designedit.model.scene import Origin
from designedit.model.quoting import LONG, quote

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")  # C:\ or C:/, a Windows path, not a URL scheme


def reference_problem(origin: Origin, ref: str) -> str | None:
    """Why `ref` is not an acceptable file reference, or None if it is."""
    if not ref:
        return "the file reference is empty"
    if _DRIVE.match(ref):
        return f"{quote(ref, LONG)} is an absolute path; file references are relative to the document"
    if _SCHEME.match(ref) or ref.startswith("//"):
        return f"{quote(ref, LONG)} is a URL; only files relative to the document are allowed"
    if "\\" in ref:
        return f"{quote(ref, LONG)} uses backslashes; file references use '/'"
    if ref.startswith("/") or PurePosixPath(ref).is_absolute():
        return f"{quote(ref, LONG)} is an absolute path; file references are relative to the document"
    if "\x00" in ref:
        return "the file reference contains a NUL character"
    try:
        os.stat(origin.base / ref)  # Python 3.13's resolve() no longer raises on a loop: the system says
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENAMETOOLONG):
            return f"{quote(ref, LONG)} cannot be followed ({unreadable_reason(exc)})"
    try:
        target = (origin.base / ref).resolve()
    except (OSError, RuntimeError) as exc:  # a symbolic link loop, a name longer than the system allows
        return f"{quote(ref, LONG)} cannot be followed ({unreadable_reason(exc)})"
    root = origin.root.resolve()
    if target != root and root not in target.parents:
        return f"{quote(ref, LONG)} points outside the allowed folder {root} (--root allows a wider one)"
    return None


def unreadable_reason(exc: BaseException) -> str:
    """Why a path cannot be used, in words: the system's own (`File name too long`), lower-cased."""
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        return "a symbolic link loop"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[0].lower() + text[1:]


def resolve_reference(origin: Origin, ref: str, location: str | None = None) -> Path:
    """The absolute path `ref` names, or SceneError at `location` (default: the document)."""
    why = reference_problem(origin, ref)
    if why is not None:
        raise SceneError(Problem(location or str(origin.path or origin.base), why))
    return (origin.base / ref).resolve()
