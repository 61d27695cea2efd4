"""Hand-built plans and synthetic pictures for the preview, render and watch tests.

The poster mirrors the conformance one: 512x384, a red disk centred (150, 200)
radius 60 and a green box (300, 150)-(420, 270) on a smooth light background.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from designedit.imaging.files import file_sha256
from designedit.plan import Cost, FrameOp, ImageOp, LoadOp, MaskData, Plan, PlanImage, PlanLayer, Size

W, H = 512, 384
BALL_C, BALL_R = (150, 200), 60


def poster_pixels() -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.dstack([200 + 30 * xx / W, 210 + 20 * yy / H, np.full_like(xx, 230)]).astype(np.uint8)
    cv2.circle(img, BALL_C, BALL_R, (220, 30, 30), -1)
    img[150:270, 300:420] = (30, 180, 60)
    return img


def ball_mask(grow: int = 0) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    cv2.circle(m, BALL_C, BALL_R + grow, 255, -1)
    return m


def write_poster(folder: Path) -> Path:
    path = folder / "poster.png"
    Image.fromarray(poster_pixels()).save(path)
    Image.fromarray(ball_mask()).save(folder / "ball-mask.png")
    return path


def write_ball_scenes(folder: Path) -> Path:
    """The poster with `move.dedit` (the ball moved right by 96 px) and `remove.dedit` (the ball removed, with
    a prompt) beside it; returns the folder."""
    write_poster(folder)
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<dedit version="1.0">\n  <image id="p" src="poster.png"/>\n'
            '  <mask id="ball" src="ball-mask.png"/>\n')
    (folder / "move.dedit").write_text(
        head + '  <background image="p"/>\n  <layer id="ball" image="p" mask="ball">\n    <move dx="96" dy="0"/>\n'
        '  </layer>\n</dedit>\n')
    (folder / "remove.dedit").write_text(
        head + '  <prompt>a poster, clean background</prompt>\n  <background image="p">\n    <remove mask="ball"/>\n'
        '  </background>\n</dedit>\n')
    return folder


def red(img: np.ndarray) -> np.ndarray:
    """Where a picture shows the red ball."""
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return (r > 150) & (g < 110) & (b < 110)


def centroid(binary: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(binary)
    return float(xs.mean()), float(ys.mean())


def image(id_: str, src: Path, ops: list[ImageOp] | None = None, size=(W, H)) -> PlanImage:
    recipe = [
        FrameOp(size[0], size[1]),
        LoadOp(str(src), file_sha256(src), 0, 0),
        *(ops or []),
    ]
    return PlanImage(id_, f"key-{id_}", recipe)


def plan(
    background: PlanImage,
    masks: dict[str, np.ndarray],
    layers: list[tuple[PlanLayer, PlanImage]] = (),
    size=(W, H),
) -> Plan:
    """A plan with only what the preview reads: images, canvas masks, layers."""
    images = [background] + [img for _, img in layers if img.id != background.id]
    return Plan(
        schedule="fast",
        steps=50,
        guidance_scale=7.5,
        prompt="",
        seed=0,
        canvas=Size(*size),
        render=Size(1024, 768),
        latent_scale=8,
        latent=Size(128, 96),
        scheduler={},
        images=images,
        branches=[],
        masks={name: MaskData(name, a) for name, a in masks.items()},
        layers=[pl for pl, _ in layers],
        plan_steps=[],
        output="C",
        edit_region="edit@canvas",
        background=background.id,
        cost=Cost(0, 0),
        scene_hash="test",
    )


def plan_layer(id_: str, image_id: str, dx: float, dy: float) -> PlanLayer:
    return PlanLayer(
        id=id_,
        branch=f"L:{id_}",
        image=image_id,
        mask_latent=f"layer:{id_}@latent",
        mask_canvas=f"layer:{id_}@canvas",
        dx_px=dx,
        dy_px=dy,
        dx=int(dx / 4),
        dy=int(dy / 4),
        applied_px=(dx, dy),
    )


STRETCH_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="1.1">
  <image id="poster" src="poster.png"/>
  <mask id="box"><rect x="300" y="150" width="120" height="120"/></mask>
  <background image="poster"/>
  <layer id="box" image="poster" mask="box" keep="true">
    <resize {resize}/>
    <move dx="-200" dy="90"/>
  </layer>
</dedit>
"""


def stretch_document(resize: str) -> str:
    """The poster's green box copied 200 px left and 90 px down, resized by `resize` (the attributes of
    <resize>, such as 'scale-x="1.5" scale-y="0.5"'): issue 12, 9f, for the preview and SDXL tests alike."""
    return STRETCH_DOCUMENT.format(resize=resize)
