"""The checked-in comps (tests/fixtures/design, made by GIMP, Krita and ImageMagick: make_fixtures.sh) and
what each holds, as the script put it there: the ground truth the import is measured against."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

DESIGN = Path(__file__).resolve().parents[1] / "fixtures" / "design"
CANVAS = (256, 192)
BALL_BOX = (156, 148)  # where make_fixtures.sh cut the ball out of the field (its 42x30 box)
BOY_BOX = (69, 11)  # ...and the boy (139x167)


@dataclass(frozen=True)
class Object:
    """A layer that must be found: its id, where its box was put in the comp, and how it was changed."""

    id: str
    source: tuple[int, int]  # the box's top-left in the background
    placed: tuple[int, int]  # the layer's top-left in the comp (GIMP's offsets)
    scale: float = 1.0
    flip: str = ""
    keep: bool = False


@dataclass(frozen=True)
class Expected:
    objects: tuple[Object, ...] = ()
    artwork: tuple[str, ...] = ()  # ids composed from their own pictures
    remove: bool = False
    refine: bool = False
    warnings: tuple[str, ...] = ()  # fragments each warning must hold, in order
    absent: tuple[str, ...] = field(default=())  # layer names that must not appear (hidden)


EXPECTED = {
    "move": Expected(objects=(Object("ball", BALL_BOX, (66, 152)),)),
    "resize": Expected(objects=(Object("ball", BALL_BOX, (30, 120), scale=1.5),)),
    "shrink": Expected(objects=(Object("boy", BOY_BOX, (165, 80), scale=83 / 139),)),
    "flip": Expected(objects=(Object("boy", BOY_BOX, (150, 20), flip="horizontal"),)),
    "copy": Expected(objects=(Object("ball-copy", BALL_BOX, (100, 100), keep=True),
                              Object("ball-copy-2", BALL_BOX, (-20, 60), keep=True))),
    "full": Expected(objects=(Object("ball-copy", BALL_BOX, (96, 140), keep=True),), artwork=("sticker", "title"),
                     remove=True, refine=True, absent=("old-idea",)),
    "modes": Expected(objects=(Object("ball", BALL_BOX, (20, 150)),),
                      warnings=("layer 'ball': its blend mode is multiply", "layer 'ball': its opacity is 60%")),
    "magick": Expected(objects=(Object("ball", BALL_BOX, (40, 40)),), artwork=("sticker",)),
}

# every comp file checked in: (file name, the key of EXPECTED); full-rendered-krita.ora is a stack for --onto
FILES = sorted((p.name, p.stem) for p in DESIGN.iterdir() if p.suffix in (".psd", ".ora") and p.stem in EXPECTED)
assert len(FILES) == 12


def copy_comp(name: str, folder: Path) -> Path:
    """A private copy (tests write beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(DESIGN / name, folder / name))


def alpha_box(alpha: np.ndarray, x: int = 0, y: int = 0) -> Optional[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of alpha >= 128, moved by (x, y); None when empty."""
    ys, xs = np.nonzero(alpha >= 128)
    if len(xs) == 0:
        return None
    return int(xs.min()) + x, int(ys.min()) + y, int(xs.max()) + 1 + x, int(ys.max()) + 1 + y


def clip_box(box, width: int = CANVAS[0], height: int = CANVAS[1]):
    return max(0, box[0]), max(0, box[1]), min(width, box[2]), min(height, box[3])
