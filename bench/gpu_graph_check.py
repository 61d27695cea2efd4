"""Graphed vs eager UNet calls on one SDXL-sized model: same latents? and what a cold graphed render costs.

    python bench/gpu_graph_check.py [--steps 50] [--tiny]

Renders the bench's one-object move with the fast schedule three ways on the
same random-weight model: graphed from a cold start (captures included),
graphed again (captures reused), and eager; prints wall times, capture
evaluations, and the largest difference between the graphed and the eager
output latents.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sdxl_common import compile_for, timed_render, write_scenes
from sdxl_gpu import build_pipeline


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--tiny", action="store_true")
    args = ap.parse_args()

    import torch

    from dedit_sdxl import SDXLRenderer, sdxl_options

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16 if cuda else torch.float32
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pipe = build_pipeline(device, dtype, args.tiny, tmp)
        scenes = write_scenes(tmp / "scenes")

        def renderer(graphs: bool):
            extra = {"cache": False, "reuse_branches": False, "cuda_graphs": graphs}
            return SDXLRenderer.from_pipeline(pipe, sdxl_options(device=str(device), **extra), "random-sdxl", device)

        graphed, eager = renderer(cuda), renderer(False)
        plan = compile_for(scenes["move"], "fast", args.steps, graphed.latent_scale)
        cold, cold_s = timed_render(graphed, plan, sync)
        z_graph = graphed.last_latent.clone()
        graphed.forget()
        warm, warm_s = timed_render(graphed, plan, sync)
        same_again = torch.equal(graphed.last_latent, z_graph)
        plain, plain_s = timed_render(eager, plan, sync)
        diff = (z_graph - eager.last_latent).abs().max().item()
    card = torch.cuda.get_device_name() if cuda else "CPU"
    print(f"Graphed vs eager, {card}, fast move, {args.steps} steps\n")
    print("| render | wall s | UNet evals | capture evals |")
    print("|---|---|---|---|")
    print(f"| graphed, cold (captures included) | {cold_s:.2f} | {cold.stats['unet_evals']} | {cold.stats['capture_evals']} |")
    print(f"| graphed, captures reused | {warm_s:.2f} | {warm.stats['unet_evals']} | {warm.stats['capture_evals']} |")
    print(f"| eager | {plain_s:.2f} | {plain.stats['unet_evals']} | 0 |")
    print(f"\nmax |graphed - eager| over the output latent: {diff:.3g}; graphed twice identical: {same_again}")


if __name__ == "__main__":
    main()
