"""Layered design files (PSD, OpenRaster) become scenes, and edits made in a design program come back
(spec/import.md).

    import_comp(comp, scene_path, pictures=None, form=None) -> Imported   # `dedit import`

Reading: `psd_reader` (psd-tools, bounded from the header), `ora_reader` (zip + stack.xml, bounded, safe
XML); both give a `comp.Comp`. `matching` finds an object layer's pixels in the background; `scene_build`
turns the comp into a scene and its pictures; `output` writes them atomically; `onto` applies the offsets
of a re-saved `dedit render --layers` stack to an existing scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from designedit.errors import Problem, SceneError

__all__ = ["import_comp", "read_comp", "Imported"]

_PSD = b"8BPS"


@dataclass
class Imported:
    scene_path: Path
    written: list[Path]
    placed: list = field(default_factory=list)  # scene_build.Placed, one per comp layer
    warnings: list[str] = field(default_factory=list)


def _reader(path: Path, label: str):
    """The reader module for the file, told by its first bytes (not its name)."""
    from designedit.importing.comp import refuse

    head = _head(path, label)
    if head.startswith(_PSD):
        from designedit.importing import psd_reader

        return psd_reader
    if head.startswith(b"PK"):
        from designedit.importing import ora_reader

        return ora_reader
    raise refuse(label, "this is neither a PSD nor an OpenRaster file (told by its first bytes)")


def precheck(path: Path, label: Optional[str] = None) -> None:
    """Refuse what the file's structure alone says is wrong (a header past the limits, a truncated file, a
    zip bomb, a name outside the archive), cheaply: before destinations are checked or pixels read."""
    label = label or str(path)
    _reader(path, label).precheck(path, label)


def read_comp(path: Path, label: Optional[str] = None):
    """The comp in a PSD or OpenRaster file."""
    label = label or str(path)
    reader = _reader(path, label)
    return reader.read_psd(path, label) if reader.__name__.endswith("psd_reader") else reader.read_ora(path, label)


def _head(path: Path, label: str) -> bytes:
    import os
    import stat

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SceneError(Problem(label, "the file does not exist")) from None
    except OSError as exc:
        raise SceneError(Problem(label, f"the file cannot be read ({exc.strerror or exc})")) from None
    if not stat.S_ISREG(info.st_mode):
        raise SceneError(Problem(label, "this is not a regular file"))
    try:
        with open(path, "rb") as fh:
            return fh.read(4)
    except OSError as exc:
        raise SceneError(Problem(label, f"the file cannot be read ({exc.strerror or exc})")) from None


def import_comp(comp_path: Path, scene_path: Optional[Path] = None, pictures: Optional[Path] = None,
                form: Optional[str] = None, on_commit: Optional[Callable[[], None]] = None,
                progress: Optional[Callable[[int, int], None]] = None) -> Imported:
    """Import `comp_path` into `scene_path` (default: beside the comp, `.dedit`) and its pictures (default:
    the folder `STEM-pictures` beside the scene). `form` 'xml' (default) or 'json'. Bad input: SceneError;
    an output that cannot be written: DestinationError; nothing is written unless everything is. `progress`
    (done, total) hears of each layer searched for in the background."""
    comp_path = Path(comp_path)
    scene_path = Path(scene_path) if scene_path is not None else comp_path.with_suffix(".dedit")
    pictures = Path(pictures) if pictures is not None else scene_path.parent / f"{_stem(scene_path)}-pictures"
    form = form or ("json" if scene_path.name.lower().endswith(".json") else "xml")
    precheck(comp_path)  # hostile and broken files are refused before anything heavier is even imported
    from designedit.importing.output import check_destinations, write_import
    from designedit.importing.scene_build import build_scene
    from designedit.io import dump, read

    check_destinations(scene_path, pictures, [comp_path])
    comp = read_comp(comp_path)
    folder = scene_path.absolute().parent.resolve()
    pictures_ref = pictures.absolute().resolve().relative_to(folder).as_posix()
    built = build_scene(comp, pictures_ref if pictures_ref != "." else "", progress)
    if pictures_ref == ".":
        _unprefix(built.scene)
    loaded = read(_json_text(built.scene), str(scene_path), origin=None, check_files=False)  # the model's own checks
    text = dump(loaded.scene, form)

    def verify(staged: Path) -> None:
        from designedit.compiler import compile_scene
        from designedit.io import load

        scene = load(staged)  # every picture checked as `dedit validate` does
        compile_scene(scene, schedule=None)

    written = write_import(scene_path, text, pictures, built.pictures, verify, on_commit)
    return Imported(scene_path, written, built.placed, built.warnings)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".dedit.json", ".dedit", ".json", ".xml"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return path.stem or name


def _json_text(scene: dict) -> str:
    import json

    return json.dumps(scene)


def _unprefix(scene: dict) -> None:
    for item in scene.get("images", []) + scene.get("masks", []):
        item["src"] = item["src"].lstrip("/")
