"""Scenes and pictures for the batch tests: the test poster with moved and removed balls, a broken scene,
and a template (format 1.2) with a manifest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from render_fixtures import write_ball_scenes

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<dedit version="{version}">\n'


def move_scene(dx: int, image: str = "poster.png", version: str = "1.0") -> str:
    return (HEAD.format(version=version) + f'  <image id="p" src="{image}"/>\n  <mask id="ball" src="ball-mask.png"/>\n'
            '  <background image="p"/>\n  <layer id="ball" image="p" mask="ball">\n'
            f'    <move dx="{dx}" dy="0"/>\n  </layer>\n</dedit>\n')


def write_batch(folder: Path, count: int = 3, broken: bool = True) -> list[Path]:
    """`scene-N.dedit` moving the ball by 40 + 20 N px, and (`broken`) `broken.dedit` whose move is not a
    length (line 7, column 11); returns the scenes in name order."""
    write_ball_scenes(folder)
    (folder / "move.dedit").unlink()
    (folder / "remove.dedit").unlink()
    for i in range(count):
        (folder / f"scene-{i}.dedit").write_text(move_scene(40 + 20 * i))
    if broken:
        (folder / "broken.dedit").write_text(move_scene(0).replace('dx="0"', 'dx="lots"'))
    return sorted(folder.glob("*.dedit"))


def tinted(folder: Path, name: str, shift: int) -> Path:
    """The poster with its colours shifted: a picture of its own for a manifest row."""
    poster = np.asarray(Image.open(folder / "poster.png")).astype(int)
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(poster + shift, 0, 255).astype(np.uint8)).save(path)
    return path


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))
