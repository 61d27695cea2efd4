"""Scenes for the compiler tests, built with the model classes over copies of the conformance pictures.

The pictures (../shared/conformance): 512x384 poster, a red ball centred (150, 200)
radius 60 (`ball-mask.png`), a green box (300, 150)-(420, 270) (`box-mask.png`),
`occluder-mask.png`, `backdrop.png`, a 160x160 RGBA `sticker.png`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from designedit.model import scene as m

from shared_paths import CONFORMANCE  # noqa: E402
PICTURES = ["poster.png", "ball-mask.png", "ball-mask.jpg", "box-mask.png", "occluder-mask.png", "backdrop.png", "sticker.png"]


def copy_pictures(folder: Path) -> Path:
    for name in PICTURES:
        shutil.copyfile(CONFORMANCE / name, folder / name)
    return folder


def scene(folder: Path, **fields) -> m.Scene:
    fields.setdefault("version", "1.0")
    fields.setdefault("images", [m.Image(id="poster", src="poster.png")])
    fields.setdefault("background", m.Background(image="poster"))
    return m.Scene(**fields).with_origin(m.Origin(None, folder, folder))


BALL = m.Mask(id="ball", src="ball-mask.png")
BOX = m.Mask(id="box", src="box-mask.png")
STAMP = m.Mask(id="stamp", shapes=[m.Rect(x=10, y=10, width=40, height=24)])


def ball_layer(*transforms, **kw) -> m.Layer:
    kw.setdefault("id", "ball")
    kw.setdefault("image", "poster")
    kw.setdefault("mask", "ball")
    return m.Layer(transforms=list(transforms), **kw)


def operation_scenes(folder: Path) -> dict[str, m.Scene]:
    """One scene per operation of the method (issue 3's golden list)."""
    poster_masks = [BALL, BOX, STAMP]
    move = m.Move(dx=100, dy=-20)
    return {
        "remove": scene(folder, masks=poster_masks, background=m.Background(image="poster", edits=[m.Remove(mask="ball"), m.Remove(mask="stamp")])),
        "refine": scene(
            folder,
            masks=[STAMP, m.Mask(id="board", shapes=[m.Rect(x="30%", y="80%", width="40%", height="15%")])],
            background=m.Background(image="poster", edits=[m.Remove(mask="stamp", refine="board")]),
        ),
        "move": scene(folder, masks=poster_masks, layers=[ball_layer(move)]),
        "resize": scene(folder, masks=poster_masks, layers=[ball_layer(m.Resize(scale=0.6), move)]),
        "flip": scene(folder, masks=poster_masks, layers=[m.Layer(id="box", image="poster", mask="box", transforms=[m.Flip(axis="horizontal"), m.Move(dx=-120, dy=30)])]),
        "rotate": scene(folder, masks=poster_masks, layers=[m.Layer(id="box", image="poster", mask="box", transforms=[m.Rotate(degrees=30), m.Move(dx=-100, dy=0)])]),
        "copy": scene(folder, masks=poster_masks, layers=[ball_layer(m.Move(dx=200, dy=-60), keep=True)]),
        "pan": scene(folder, background=m.Background(image="poster", edits=[m.Pan(dx="-20%", dy=0)])),
        "zoom-out": scene(folder, background=m.Background(image="poster", edits=[m.ZoomOut(factor=1.5)])),
        "compose": scene(
            folder,
            images=[m.Image(id="backdrop", src="backdrop.png"), m.Image(id="poster", src="poster.png"), m.Image(id="sticker", src="sticker.png")],
            masks=[m.Mask(id="ball", shapes=[m.Ellipse(cx=150, cy=200, rx=60, ry=60)])],
            background=m.Background(image="backdrop"),
            layers=[ball_layer(m.Move(dx=100, dy=0)), m.Layer(id="star", image="sticker", x=320, y=40, transforms=[m.Rotate(degrees=-10)])],
        ),
        "occlusion": scene(
            folder,
            masks=[BALL, m.Mask(id="front", src="occluder-mask.png")],
            layers=[ball_layer(m.Move(dx=0, dy=-90), occluder="front")],
        ),
        "noop": scene(folder),  # a background alone: nothing changes a pixel
    }
