"""Full-size SDXL architecture with random weights on a GPU: 1024x1024 move and removal, both schedules.

    python bench/sdxl_gpu.py [--steps 50] [--dtype bf16] [--offload] [--tiny]

Builds SDXL 1.0 base's UNet, VAE and both text encoders from the published
configs (written inline below; nothing is downloaded) with random weights
created directly on the GPU in the chosen dtype: the cost of every UNet call
is the real model's. Renders a one-object move and a removal cold (no
inversion cache, no branch reuse) with the reference and the fast schedule,
then a move-only re-render with reuse, and prints a markdown table of wall
time, executed UNet evaluations and peak GPU memory. Targets (issue 5): fast
<= 0.35x reference wall time; peak <= 10 GB (<= 6 GB with --offload).

Needs only torch, transformers and diffusers (plus the project's own pure
Python dependencies); `--tiny` swaps in the tiny test configs so the script
can be checked on a CPU.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sdxl_common import compile_for, relative_l2, timed_render, write_scenes  # noqa: E402

# SDXL 1.0 base's published component configs (shared with the single-file loader)
from dedit_sdxl.sdxl_config import SDXL_SCHEDULER, SDXL_TEXT, SDXL_TEXT_2, SDXL_UNET, SDXL_VAE  # noqa: E402


def build_pipeline(device, dtype, tiny: bool, folder: Path):
    """An SDXL pipeline with random weights made on `device` in `dtype` (no fp32 copy, no download)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    if tiny:
        from sdxl_tiny import tiny_components

        parts = tiny_components()
        return StableDiffusionXLPipeline(**parts).to(device, dtype)

    from sdxl_tiny import _write_vocab  # a small BPE vocabulary: token ids are all the model needs

    vocab, merges = _write_vocab(folder / "vocab")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            torch.manual_seed(0)
            unet = UNet2DConditionModel(**SDXL_UNET)
            vae = AutoencoderKL(**SDXL_VAE)
            te1 = CLIPTextModel(CLIPTextConfig(**SDXL_TEXT))
            te2 = CLIPTextModelWithProjection(CLIPTextConfig(**SDXL_TEXT_2))
    finally:
        torch.set_default_dtype(previous)
    for m in (unet, vae, te1, te2):
        m.requires_grad_(False).eval()
    return StableDiffusionXLPipeline(
        vae=vae, text_encoder=te1, text_encoder_2=te2, unet=unet, scheduler=DDIMScheduler(**SDXL_SCHEDULER),
        tokenizer=CLIPTokenizer(str(vocab), str(merges), model_max_length=77, pad_token="<|endoftext|>"),
        tokenizer_2=CLIPTokenizer(str(vocab), str(merges), model_max_length=77, pad_token="!"),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    ap.add_argument("--offload", action="store_true", help="model CPU offload (accelerate)")
    ap.add_argument("--tiny", action="store_true", help="tiny configs, to check the script on a CPU")
    ap.add_argument("--edits", default="move,removal")
    ap.add_argument("--native-size", type=int, default=1024,
                    help="render side in px (1024 = SDXL's; smaller only to dry-run the full-size model on a CPU)")
    args = ap.parse_args()

    import torch

    from designedit.renderer import RenderOptions
    from dedit_sdxl import SDXLRenderer

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    if args.tiny and not cuda:
        dtype = torch.float32
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    card = torch.cuda.get_device_name() if cuda else "CPU"

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pipe = build_pipeline(device, dtype, args.tiny, tmp)
        if dtype == torch.float16:
            pipe.vae.to(torch.float32)  # SDXL's VAE overflows in fp16 (force_upcast)
        if args.offload and cuda:
            pipe.enable_model_cpu_offload()
        options = RenderOptions(device=str(device), extra={"cache": False, "reuse_branches": False})
        r = SDXLRenderer.from_pipeline(pipe, options, identity="random-sdxl", device=device)
        scenes = write_scenes(tmp / "scenes")
        rows, latents = [], {}
        # one untimed warm-up so kernel selection is not billed to the first schedule
        r.render(compile_for(scenes["removal"], "fast", 2, r.latent_scale, args.native_size))
        for edit in args.edits.split(","):
            for schedule in ("reference", "fast"):
                plan = compile_for(scenes[edit], schedule, args.steps, r.latent_scale, args.native_size)
                r.forget()
                if cuda:
                    torch.cuda.reset_peak_memory_stats()
                result, seconds = timed_render(r, plan, sync)
                peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
                latents[edit, schedule] = r.last_latent
                rows.append((edit, schedule, seconds, result.stats["unet_evals"], peak))
        # move-only re-render with branch reuse (watch mode)
        reuse = SDXLRenderer.from_pipeline(pipe, RenderOptions(device=str(device), extra={"cache": False}), "random-sdxl", device)
        moved = scenes["move"].with_name("move2.dedit")
        moved.write_text(scenes["move"].read_text().replace('dx="256"', 'dx="320"'))
        timed_render(reuse, compile_for(scenes["move"], "fast", args.steps, r.latent_scale, args.native_size), sync)
        again, again_s = timed_render(reuse, compile_for(moved, "fast", args.steps, r.latent_scale, args.native_size), sync)

    print(f"{'tiny test configs' if args.tiny else 'SDXL base architecture, random weights'}, {card}, "
          f"{args.dtype}{', offload' if args.offload else ''}, {args.steps} steps, "
          f"{args.native_size}x{args.native_size}, cold renders\n")
    print("| edit | schedule | wall s | UNet evals | peak GPU GiB | fast/ref wall | latent rel. L2 vs ref |")
    print("|---|---|---|---|---|---|---|")
    by = {(e, s): sec for e, s, sec, _, _ in rows}
    for edit, schedule, seconds, evals, peak in rows:
        ratio = dev = ""
        if schedule == "fast":
            ratio = f"{seconds / by[edit, 'reference']:.3f}"
            dev = f"{relative_l2(latents[edit, 'fast'], latents[edit, 'reference']):.4f}"
        print(f"| {edit} | {schedule} | {seconds:.2f} | {evals} | {peak:.2f} | {ratio} | {dev} |")
    print(f"| move, moved again (branch reuse) | fast | {again_s:.2f} | {again.stats['unet_evals']} | | | |")


if __name__ == "__main__":
    main()
