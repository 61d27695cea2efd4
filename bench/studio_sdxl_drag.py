"""`dedit studio` with the tiny random-weight SDXL (tests/sdxl_tiny.py, VAE factor 32) at the default 50 steps:
the UNet evaluations of the first render and of the render after a drag (issue 14: at most 10).

A real studio process on the test poster (the ball moved); the drag is the page's gesture request (a move of
(-32, 16) canvas pixels). CPU only; minutes on a loaded 2-core machine.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/studio_sdxl_drag.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "studio")]  # the tiny model and the studio launcher

import studio_process as sp  # noqa: E402
from sdxl_tiny import build_tiny_sdxl  # noqa: E402


def main() -> int:
    sp.WAIT = 1800.0  # the cold render inverts and denoises 50 steps on the CPU
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = build_tiny_sdxl(folder / "model", vae_blocks=6)
        scene = sp.write_scene(folder)
        studio = sp.Studio(scene, "--renderer", "sdxl", "--model", str(model), "--cache-dir", str(folder / "cache"))
        try:
            cold = studio.wait_state(lambda s: sp.picture_number(s) >= 1, "the first render")["status"]
            with studio.client() as c:
                c.post("/api/gesture", json={"kind": "move", "layer": "ball", "dx": -32, "dy": 16}).raise_for_status()
            after = studio.wait_state(lambda s: sp.picture_number(s) >= 2, "the render after the drag")
        finally:
            studio.stop()
    warm = after["status"]
    print(f"first render: {cold['unet_evals']} UNet evaluations, {cold['cache_hits']} cache hits, {cold['seconds']:.1f} s")
    print(f"after a drag: {warm['unet_evals']} UNet evaluations, {warm['cache_hits']} cache hits, resumed at step "
          f"{warm['resumed_at_step']}, {after['stats'].get('inversion_evals')} inversion evaluations, {warm['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
