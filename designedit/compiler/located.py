"""Errors located in the scene's document: the compiler's refusals name the element they are about."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Optional

from designedit.errors import Problem, SceneError, located
from designedit.model.scene import Scene


def fail(scene: Scene, where: str, message: str, path: Optional[tuple] = None) -> SceneError:
    """A SceneError located at `path` (a path in the scene's JSON shape) in the scene's document: its
    line and column when it was read from XML, else `file#/json/pointer`; the document alone without a path."""
    if path is not None:
        location = place(scene, path)
    else:
        origin = scene.origin
        location = str(origin.path) if origin is not None and origin.path is not None else "<scene>"
    return SceneError(Problem(location, f"{where}: {message}" if where else message))


def picture_at(scene: Scene, path: tuple, where: str = "") -> AbstractContextManager[None]:
    """A block whose PictureError becomes a SceneError at `path` in the document (`fail`'s location)."""
    return located(lambda: place(scene, path), where)


def place(scene: Scene, path: tuple) -> str:
    from designedit.model.source import scene_place

    return scene_place(scene, path)


def image_path(scene: Scene, image_id: str) -> tuple:
    """The path of an image's `src` in the scene."""
    index = next(i for i, image in enumerate(scene.images) if image.id == image_id)
    return ("images", index, "src")
