"""The scenes a batch command names: files, folders (their *.dedit and *.dedit.json) and globs.

A shell expands an unquoted glob itself; a quoted one (`'scenes/*.dedit'`) reaches dedit as it is and is
expanded here, the same way, sorted. A folder contributes its scene files in name order, not its
subfolders. A scene named twice is rendered once.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

from designedit.errors import UsageError

SCENE_SUFFIXES = (".dedit", ".dedit.json")
GLOB_CHARACTERS = "*?["


_ADDRESS = re.compile(r"^(auto|local|[A-Za-z][A-Za-z0-9+.-]*://\S+|[A-Za-z0-9_.-]+:[0-9]{1,5})$")


def looks_like_address(text: str) -> bool:
    """Whether --ray's value is a Ray address (auto, local, ray://host:port, host:port) rather than a scene
    that followed the flag."""
    return bool(_ADDRESS.match(text)) and not Path(text).exists()


def is_pattern(text: str) -> bool:
    return any(c in text for c in GLOB_CHARACTERS)


def is_batch(arguments: list[str]) -> bool:
    """Whether the scene arguments make a batch: several, a folder, or a pattern that is not a file's name."""
    if len(arguments) != 1:
        return True
    path = Path(arguments[0])
    return path.is_dir() or (is_pattern(arguments[0]) and not path.exists())


def scene_paths(arguments: list[str]) -> list[Path]:
    """Every scene the arguments name, in their order; UsageError for a folder without scenes or a pattern
    that matches none (a missing file is kept: loading it says so, located, and the others go on)."""
    found: list[Path] = []
    for text in arguments:
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.name.endswith(SCENE_SUFFIXES) and p.is_file())
            if not inside:
                raise UsageError(f"the folder {text} holds no scene (*.dedit or *.dedit.json).")
            found += inside
        elif is_pattern(text) and not path.exists():
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            matches = [m for m in matches if m.is_file()]
            if not matches:
                raise UsageError(f"no scene file matches {text}.")
            found += matches
        else:
            found.append(path)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())
