"""Pass: choose the canvas and the render size.

The model's native size N (diffusers: `unet.config.sample_size * vae_scale_factor`;
1024 for SDXL, the default) sets the scale. Reference: N x N always (method 12:
SDXL's 1024x1024). Fast: keep the aspect ratio at about N^2 pixels (one
megapixel for SDXL), both sides multiples of 64 (and of the latent scale), each
side between one unit and 4096; a square canvas renders at N x N.
"""

from __future__ import annotations

import math

from designedit.errors import DeditError
from designedit.model.scene import Scene
from designedit.checks.paths import resolve_reference
from designedit.imaging.pictures import check_size, picture_size
from designedit.plan import Size
from designedit.compiler.located import fail, image_path, picture_at, place

NATIVE_SIZE = 1024  # SDXL's
MAX_RENDER_SIDE = 4096


def canvas_of(scene: Scene) -> Size:
    """The scene's canvas, by default the background picture's size; checked against the size limit."""
    if scene.canvas is not None:
        w, h = scene.canvas.width, scene.canvas.height
    else:
        if scene.origin is None:
            raise fail(scene, "background", "the scene has no canvas and no origin to find the background picture")
        src = scene.image(scene.background.image).src
        where = image_path(scene, scene.background.image)
        path = resolve_reference(scene.origin, src, place(scene, where))
        with picture_at(scene, where):
            w, h = picture_size(path)
    with picture_at(scene, ("canvas",) if scene.canvas is not None else image_path(scene, scene.background.image)):
        check_size(w, h, what="the canvas")
    return Size(w, h)


def render_size(canvas: Size, schedule: str, latent_scale: int, native: int = NATIVE_SIZE) -> Size:
    if schedule == "reference":
        if native % latent_scale:
            raise DeditError(f"the reference schedule renders at {native} px, which a latent scale of {latent_scale} does not divide.")
        return Size(native, native)
    unit = 64 * latent_scale // math.gcd(64, latent_scale)
    aspect = canvas.width / canvas.height
    area = native * native

    def side(v: float) -> int:
        return int(min(max(unit, round(v / unit) * unit), MAX_RENDER_SIDE // unit * unit or unit))

    return Size(side(math.sqrt(area * aspect)), side(math.sqrt(area / aspect)))
