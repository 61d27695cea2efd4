"""File checks: every reference a document makes obeys the path rules (always); every picture it names
exists, is within the size limit and decodes (unless the caller skips opening pictures).

A picture's size is read from its header before anything is decoded, so a
decompression bomb is refused first; then its data is checked to be all there
(`pictures.check_decodes`: PNG chunks are verified without decoding, JPEG is
decoded at 1/8 scale). Like the reference checks, these read the document in
its JSON shape. Pillow (through `imaging.pictures`) is imported only once a picture is opened: the commands
that check no pictures (`fmt`, `convert`, `validate --no-files`) do not load it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from designedit.model import scene as m
from designedit.errors import PictureError, Problem, SceneError
from designedit.checks.paths import reference_problem, unreadable_reason
from designedit.model.quoting import LONG, quote

Report = Callable[[tuple, str], None]


def _open_problem(path: Path, ref: str) -> Optional[str]:
    try:
        if not path.exists():
            return f"{quote(ref, LONG)} does not exist"
        if not path.is_file():
            return f"{quote(ref, LONG)} is not a file"
    except OSError as exc:  # a name longer than the system allows
        return f"{quote(ref, LONG)} cannot be read ({unreadable_reason(exc)})"
    from designedit.imaging.pictures import check_decodes, picture_size

    try:
        picture_size(path)
        check_decodes(path)
    except PictureError as exc:
        return str(exc)
    return None


def picture_problem(path: Path, ref: str) -> Optional[str]:
    """Why the picture `ref` (at `path`) cannot be used, or None: it exists, is a file, within the size limit,
    and decodes."""
    return _open_problem(path, ref)


def _has_alpha(path: Path) -> bool:
    from PIL import Image as PILImage

    from designedit.imaging.pictures import has_transparency

    with PILImage.open(path) as im:  # header only; the size was checked already
        return has_transparency(im)


def problems(data: Any, origin: m.Origin, report: Report, open_pictures: bool = True) -> None:
    """Report every file problem of a document given in its JSON shape; without `open_pictures` only the
    path rules (spec/format.md 8) and the output's rules are checked."""
    if not isinstance(data, dict):
        return
    opened: dict[Path, Optional[str]] = {}  # each file opened once, however many times it is named
    named: set[Path] = set()  # every picture file the document names acceptably (the output may not be one)
    good_images: dict[str, Path] = {}
    for key in ("images", "masks"):
        items = data.get(key)
        for i, item in enumerate(items if isinstance(items, list) else []):
            src = item.get("src") if isinstance(item, dict) else None
            if not isinstance(src, str):
                continue
            why = reference_problem(origin, src)
            if why is None:
                path = (origin.base / src).resolve()
                named.add(path)
                if open_pictures:
                    if path not in opened:
                        opened[path] = _open_problem(path, src)
                    why = opened[path]
            if why is not None:
                report((key, i, "src"), why)
            elif open_pictures and key == "images" and isinstance(item.get("id"), str):
                good_images.setdefault(item["id"], path)
    output = data.get("output")
    if isinstance(output, dict) and isinstance(output.get("path"), str) and output["path"]:
        ref = output["path"]
        why = reference_problem(origin, ref)
        target = (origin.base / ref).resolve() if why is None else None
        if target is not None:
            try:
                if target.is_dir():
                    why = f"{quote(ref, LONG)} is a folder; the output path names the picture to write"
            except OSError as exc:
                why = f"{quote(ref, LONG)} cannot be written ({unreadable_reason(exc)})"
        if why is None and not ref.lower().endswith(".png"):
            why = f"{quote(ref, LONG)} must end in .png; dedit writes PNG pictures"
        if why is None and target in named:
            why = f"{quote(ref, LONG)} is one of the scene's own pictures; the output would overwrite it"
        if why is not None:
            report(("output", "path"), why)
    layers = data.get("layers")
    for i, layer in enumerate(layers if isinstance(layers, list) else []):
        if isinstance(layer, dict) and "mask" not in layer and isinstance(layer.get("image"), str) and layer["image"] in good_images:
            picture = good_images[layer["image"]]
            if not _has_alpha(picture):
                report(
                    ("layers", i),
                    f"layer {quote(str(layer.get('id')))} has no mask and its picture {picture.name} has no alpha channel; "
                    "give the layer a mask",
                )


def root_problem(origin: m.Origin) -> Optional[str]:
    """Why the allowed root folder cannot be used, or None."""
    if not origin.root.exists():
        return f"the root folder {origin.root} does not exist"
    if not origin.root.is_dir():
        return f"the root folder {origin.root} is not a folder"
    return None


def check(scene: m.Scene) -> None:
    """Raise SceneError if a loaded scene's files are not usable (the scene must carry its origin)."""
    from designedit.model.source import scene_place

    if scene.origin is None:
        raise SceneError(Problem("<scene>", "the scene has no origin, so its file references cannot be checked"))
    found: list[Problem] = []
    problems(scene.model_dump(), scene.origin, lambda path, msg: found.append(Problem(scene_place(scene, path), msg)))
    if found:
        raise SceneError(found)
