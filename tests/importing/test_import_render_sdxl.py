"""An imported comp renders with SDXL too: here a tiny random-weight SDXL (tests/sdxl_tiny.py; no weights can
be downloaded), so what is measured is where things go, not how they look: the copied object's layer lands
where the comp put it (up to the plan's whole-latent-cell rounding), and far from every edit the output is
the background's own pixels (paste-back)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from designedit import compile, load, render
from designedit.importing import import_comp, read_comp

from comps import alpha_box, clip_box, copy_comp

torch.set_num_threads(1)  # tiny models: threads only add contention on a shared 2-core machine


def test_imported_comp_renders_with_tiny_sdxl(tiny32, tmp_path):
    comp_path = copy_comp("full.ora", tmp_path)
    imported = import_comp(comp_path, tmp_path / "scene.dedit")
    scene = load(tmp_path / "scene.dedit")
    result = render(scene, tmp_path / "out.png", renderer="sdxl", model=str(tiny32), steps=2, progress=False)
    out = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    comp = read_comp(comp_path)
    assert out.shape == (192, 256, 3)
    background = comp.layers[0].rgba[..., :3]
    far = np.zeros(out.shape[:2], bool)
    far[50:120, 200:] = True  # right of the title, above the ball, away from the player and the sticker
    assert np.array_equal(out[far], background[far])
    plan = compile(scene, latent_scale=32)
    by_path = {layer.path: layer for layer in comp.layers}
    for placed in imported.placed:
        if placed.what not in ("copy", "object", "artwork"):
            continue
        layer = by_path[placed.path]
        rx, ry = (round(v) for v in next(p.rounding_px for p in plan.layers if p.id == placed.id))
        want = clip_box(alpha_box(layer.rgba[..., 3], layer.x - rx, layer.y - ry))
        assert alpha_box(result.layers[f"layer:{placed.id}"][..., 3]) == want, placed.path
