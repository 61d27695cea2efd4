"""Reference vs fast schedule on a tiny SDXL model on the CPU, side by side in one run.

    .venv/bin/python bench/sdxl_cpu.py [--steps 50] [--threads 1] [--vae-blocks 4]

Builds the tiny random-weight SDXL of tests/sdxl_tiny.py (VAE factor 8 by
default, so both schedules work on a 128x128 latent at 1024 px), loads it
through the user-facing loader, and renders a one-object move and a removal
cold (no inversion cache, no branch reuse) with each schedule. Prints wall
time, executed UNet sample-evaluations, the fast/reference ratios, and the
fast output's latent deviation from the reference (relative L2). Target
(issue 5): fast <= 0.5x reference wall time. Also times a move-only
re-render with branch reuse (issue 4: <= 10 evaluations at 50 steps).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sdxl_common import compile_for, relative_l2, timed_render, write_scenes  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is steadiest on a shared machine)")
    ap.add_argument("--vae-blocks", type=int, default=4, help="4 = VAE factor 8 as SDXL")
    args = ap.parse_args()

    import torch

    from dedit_sdxl import SDXLRenderer, sdxl_options
    from sdxl_tiny import build_tiny_sdxl

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = build_tiny_sdxl(tmp / "model", vae_blocks=args.vae_blocks)
        scenes = write_scenes(tmp / "scenes")
        cold = SDXLRenderer(sdxl_options(model=str(model), cache=False, reuse_branches=False))
        scale = cold.latent_scale
        rows, latents = [], {}
        for edit, path in scenes.items():
            for schedule in ("reference", "fast"):
                plan = compile_for(path, schedule, args.steps, scale)
                cold.forget()
                result, seconds = timed_render(cold, plan)
                latents[edit, schedule] = cold.last_latent
                rows.append((edit, schedule, seconds, result.stats["unet_evals"], plan.cost.total))

        # incremental: the same move, then the object moved elsewhere
        warm = SDXLRenderer(sdxl_options(model=str(model), cache_dir=tmp / "cache"))
        moved = Path(str(scenes["move"]).replace("move.dedit", "move2.dedit"))
        moved.write_text(scenes["move"].read_text().replace('dx="256"', 'dx="320"'))
        timed_render(warm, compile_for(scenes["move"], "fast", args.steps, scale))
        again, again_s = timed_render(warm, compile_for(moved, "fast", args.steps, scale))

    print(f"tiny SDXL (VAE factor {scale}), {args.steps} steps, 1024x1024, {args.threads} CPU thread(s), cold renders\n")
    print("| edit | schedule | wall s | UNet evals (run) | planned | fast/ref wall | fast/ref evals | latent rel. L2 vs ref |")
    print("|---|---|---|---|---|---|---|---|")
    by = {(r[0], r[1]): r for r in rows}
    for edit, schedule, seconds, evals, planned in rows:
        ref = by[edit, "reference"]
        extra = ("", "", "")
        if schedule == "fast":
            dev = relative_l2(latents[edit, "fast"], latents[edit, "reference"])
            extra = (f"{seconds / ref[2]:.3f}", f"{evals / ref[3]:.3f}", f"{dev:.4f}")
        print(f"| {edit} | {schedule} | {seconds:.2f} | {evals} | {planned} | {extra[0]} | {extra[1]} | {extra[2]} |")
    print(f"| move, moved again (branch reuse) | fast | {again_s:.2f} | {again.stats['unet_evals']} | - | | | |")


if __name__ == "__main__":
    main()
