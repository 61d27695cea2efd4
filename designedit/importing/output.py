"""Writing an import all at once: the scene and its pictures are written into a temporary folder beside the
scene, checked there (read back and compiled, as `dedit validate` would), and only then moved into place.
A failure or an interruption before the moves leaves nothing behind; the moves are renames within one
folder tree, the scene's last, so a scene never names a picture that is not there."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Mapping, Optional, TYPE_CHECKING

from designedit.errors import DeditError, DestinationError
from designedit.rendering.atomic import os_error_reason, why_unwritable

if TYPE_CHECKING:
    import numpy as np


def check_destinations(scene_path: Path, pictures: Path, inputs: list[Path]) -> None:
    """Before any work (DestinationError, exit status 2): both can be written, the pictures folder lies in
    the scene's folder (the scene names its pictures relative to itself, confined to that folder), and
    neither is the comp itself."""
    for given in inputs:
        if scene_path.resolve() == given.resolve():
            raise DestinationError(f"{scene_path} is the comp being imported; choose another scene file (-o)")
    folder = scene_path.absolute().parent.resolve()
    target = pictures.absolute().resolve()
    if target != folder and folder not in target.parents:
        raise DestinationError(f"the pictures folder {pictures} is not inside the scene's folder {folder}; "
                               "a scene names its pictures relative to itself")
    for path, is_folder in ((scene_path, False), (pictures, True)):
        why = why_unwritable(path, folder=is_folder)
        if why is not None:
            raise DestinationError(f"cannot write {path}: {why}")


def write_import(scene_path: Path, scene_text: str, pictures_dir: Path, pictures: Mapping[str, "np.ndarray"],
                 verify: Callable[[Path], None], on_commit: Optional[Callable[[], None]] = None) -> list[Path]:
    """Write the scene and its pictures (names inside `pictures_dir`) atomically; `verify(scene_in_temp)`
    raises to refuse them before anything is in place. Returns the paths written, the scene last."""
    from designedit.rendering.outputs import png_bytes

    encoded = {name: png_bytes(pixels) for name, pixels in pictures.items()}  # an encoding error writes nothing
    folder = scene_path.absolute().parent
    folder.mkdir(parents=True, exist_ok=True)
    relative = pictures_dir.absolute().resolve().relative_to(folder.resolve())
    staging = Path(tempfile.mkdtemp(prefix=".dedit-import-", dir=folder))
    created: list[Path] = []
    try:
        staged_pictures = staging / relative
        staged_pictures.mkdir(parents=True, exist_ok=True)
        for name, data in encoded.items():
            _write(staged_pictures / name, data)
        staged_scene = staging / scene_path.name
        _write(staged_scene, scene_text.encode("utf-8"))
        verify(staged_scene)
        if on_commit is not None:
            on_commit()
        created = _make_folders(pictures_dir.absolute())
        written = []
        for name in encoded:
            os.replace(staged_pictures / name, pictures_dir / name)
            written.append(pictures_dir / name)
        os.replace(staged_scene, scene_path)
        written.append(scene_path)
        return written
    except OSError as exc:
        for made in reversed(created):
            shutil.rmtree(made, ignore_errors=True)
        raise DeditError(f"cannot write the import into {folder}: {os_error_reason(exc, folder)}.") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, 0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and missing parents; the ones created, outermost first."""
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]
