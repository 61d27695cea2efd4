"""Shared by the SDXL benches: two square scenes (a one-object move and a removal) and a timed render.

Square canvases so that both schedules render at 1024x1024 and their output
latents can be compared cell for cell.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "renderers", ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def write_scenes(folder: Path, size: int = 1024) -> dict[str, Path]:
    """`move.dedit` (a red disc moved right by a quarter) and `remove.dedit` (the disc removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:size, 0:size] / size
    img = np.stack([60 + 120 * x, 80 + 100 * y, 140 + 60 * np.sin(9 * x * y)], -1)
    disc = (x - 0.3) ** 2 + (y - 0.5) ** 2 < 0.12**2
    img[disc] = [210, 30, 30]
    Image.fromarray(img.astype(np.uint8)).save(folder / "picture.png")
    Image.fromarray((disc * 255).astype(np.uint8)).save(folder / "disc.png")
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<dedit version="1.0">\n  <image id="pic" src="picture.png"/>\n  <mask id="disc" src="disc.png"/>\n'
    (folder / "move.dedit").write_text(
        head + '  <background image="pic"/>\n  <layer id="disc" image="pic" mask="disc">\n'
        f'    <move dx="{size // 4}" dy="0"/>\n  </layer>\n</dedit>\n'
    )
    (folder / "remove.dedit").write_text(head + '  <background image="pic">\n    <remove mask="disc"/>\n  </background>\n</dedit>\n')
    return {"move": folder / "move.dedit", "removal": folder / "remove.dedit"}


def compile_for(path: Path, schedule: str, steps: int, latent_scale: int, native_size: int = 1024):
    from designedit.compiler import compile_scene
    from designedit.io import load

    return compile_scene(load(path, check_files=True), schedule=schedule, steps=steps, latent_scale=latent_scale,
                         native_size=native_size)


def timed_render(renderer, plan, sync=lambda: None):
    sync()
    t = time.perf_counter()
    result = renderer.render(plan)
    sync()
    return result, time.perf_counter() - t


def relative_l2(a, b) -> float:
    a, b = a.double().flatten(), b.double().flatten()
    return float((a - b).norm() / b.norm())
