"""Full-size SDXL architecture with random weights on a GPU: 1024x1024 move and removal, both schedules.

    python bench/sdxl_gpu.py [--steps 50] [--dtype bf16] [--offload | --cuda-graphs] [--calls] [--tiny]
                             [--separate-projections]

Builds SDXL 1.0 base's UNet, VAE and both text encoders from the published
configs (written inline below; nothing is downloaded) with random weights
created directly on the GPU in the chosen dtype: the cost of every UNet call
is the real model's. Renders a one-object move and a removal cold (no
inversion cache, no branch reuse) with the reference and the fast schedule,
then a move-only re-render with reuse, and prints a markdown table of wall
time (and where it went: inversion, denoising, decoding, composing),
executed UNet evaluations and calls, and peak GPU memory. Targets (issue 5):
fast <= 0.35x reference wall time; peak <= 10 GB (<= 6 GB with --offload).
`--cuda-graphs` runs both schedules with the UNet replayed from CUDA graphs;
`--calls` first times single UNet calls at batch 1, 2, 4 and 8, eager and
(on CUDA) graphed: where a call costs the same at batch 1 as at batch 8, the
host's dispatch, not the GPU, sets the pace. On CUDA the renderer fuses each
self-attention's q/k/v projections unless offloading (`--separate-projections`
keeps them apart, for comparison).

Needs only torch, transformers and diffusers (plus the project's own pure
Python dependencies); `--tiny` swaps in the tiny test configs so the script
can be checked on a CPU.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
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
    ap.add_argument("--cuda-graphs", action="store_true", help="UNet calls replayed from CUDA graphs")
    ap.add_argument("--calls", action="store_true", help="first time single UNet calls by batch size")
    ap.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN time its convolution algorithms per shape")
    ap.add_argument("--channels-last", action="store_true", help="UNet and VAE weights in channels-last layout")
    ap.add_argument("--separate-projections", action="store_true",
                    help="keep self-attention's q/k/v projections separate (the renderer fuses them by default on CUDA)")
    ap.add_argument("--sdpa", choices=["default", "cudnn", "flash", "efficient"], default="default",
                    help="the scaled-dot-product attention kernel PyTorch tries first (default: its own order)")
    ap.add_argument("--compile", choices=["blocks", "unet"], default=None,
                    help="the renderer's --compile (torch.compile with inductor: the transformer blocks, or the whole "
                         "UNet with static shapes); compiling is billed to the untimed warm-ups")
    ap.add_argument("--call-batches", default="1,2,4,8", help="batch sizes --calls times")
    ap.add_argument("--save-latents", type=Path, default=None,
                    help="save the timed renders' output latents here (torch.save), to compare two processes")
    ap.add_argument("--edits", default="move,removal")
    ap.add_argument("--native-size", type=int, default=1024,
                    help="render side in px (1024 = SDXL's; smaller only to dry-run the full-size model on a CPU)")
    args = ap.parse_args()

    import torch

    from dedit_sdxl import SDXLRenderer, sdxl_options

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    if args.tiny and not cuda:
        dtype = torch.float32
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    card = torch.cuda.get_device_name() if cuda else "CPU"

    import contextlib

    kernel = contextlib.nullcontext()
    if args.sdpa != "default":
        from torch.nn.attention import SDPBackend, sdpa_kernel

        order = [SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
        first = order[["cudnn", "flash", "efficient"].index(args.sdpa)]
        # the others stay as fallbacks (the text encoders' masked attention, a CPU dry run)
        kernel = sdpa_kernel([first] + [b for b in order if b != first], set_priority=True)
    with kernel, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pipe = build_pipeline(device, dtype, args.tiny, tmp)
        if dtype == torch.float16:
            pipe.vae.to(torch.float32)  # SDXL's VAE overflows in fp16 (force_upcast)
        if args.cudnn_benchmark:
            torch.backends.cudnn.benchmark = True
        if args.channels_last:
            pipe.unet.to(memory_format=torch.channels_last)
            pipe.vae.to(memory_format=torch.channels_last)
        if args.offload and cuda:
            pipe.enable_model_cpu_offload()
        graphed = args.cuda_graphs and cuda and not args.offload
        fuse = not args.separate_projections
        options = sdxl_options(device=str(device), cache=False, reuse_branches=False, cuda_graphs=graphed,
                               fuse_projections=fuse, compile=args.compile)
        r = SDXLRenderer.from_pipeline(pipe, options, identity="random-sdxl", device=device)
        scenes = write_scenes(tmp / "scenes")
        if args.calls:
            time_calls(r, device, dtype, args.native_size, sync, card, [int(b) for b in args.call_batches.split(",")])
        rows, latents = [], {}
        # untimed 4-step warm-up renders of each plan, so kernel selection is not billed to the first schedule
        # (and, with --cuda-graphs, each plan's UNet shapes captured: a once-per-process cost, like loading)
        started = time.perf_counter()
        for edit in args.edits.split(","):
            for schedule in ("reference", "fast"):
                r.render(compile_for(scenes[edit], schedule, 4, r.latent_scale, args.native_size))
        r.forget()
        print(f"warm-up renders (captures{', compiling' if args.compile else ''}): {time.perf_counter() - started:.1f} s",
              flush=True)
        for edit in args.edits.split(","):
            for schedule in ("reference", "fast"):
                plan = compile_for(scenes[edit], schedule, args.steps, r.latent_scale, args.native_size)
                r.forget()
                if cuda:
                    torch.cuda.reset_peak_memory_stats()
                result, seconds = timed_render(r, plan, sync)
                peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
                latents[edit, schedule] = r.last_latent
                rows.append((edit, schedule, seconds, result.stats, peak))
        # move-only re-render with branch reuse (watch mode); a --compile UNet was compiled in place, so it runs
        # compiled here too
        reuse = SDXLRenderer.from_pipeline(pipe, sdxl_options(device=str(device), cache=False, cuda_graphs=graphed,
                                                              fuse_projections=fuse),
                                           "random-sdxl", device)
        moved = scenes["move"].with_name("move2.dedit")
        moved.write_text(scenes["move"].read_text().replace('dx="256"', 'dx="320"'))
        timed_render(reuse, compile_for(scenes["move"], "fast", args.steps, r.latent_scale, args.native_size), sync)
        again, again_s = timed_render(reuse, compile_for(moved, "fast", args.steps, r.latent_scale, args.native_size), sync)
        if args.save_latents:
            torch.save({f"{e}/{s}": v.float().cpu() for (e, s), v in latents.items()}, args.save_latents)

    print(f"{'tiny test configs' if args.tiny else 'SDXL base architecture, random weights'}, {card}, "
          f"{ {torch.bfloat16: 'bf16', torch.float16: 'fp16', torch.float32: 'fp32'}[dtype]}"
          f"{', offload' if args.offload else ''}{', CUDA graphs' if graphed else ''}"
          f"{', fused q/k/v' if rows[0][3].get('fused_projections') else ', separate q/k/v'}"
          f"{'' if args.sdpa == 'default' else ', SDPA ' + args.sdpa}"
          f"{', cudnn.benchmark' if args.cudnn_benchmark else ''}{', channels-last' if args.channels_last else ''}"
          f"{', torch.compile ' + args.compile if args.compile else ''}, {args.steps} steps, "
          f"{args.native_size}x{args.native_size}, cold renders\n")
    print("| edit | schedule | wall s | UNet evals | UNet calls | invert / denoise / decode / compose s | peak GPU GiB "
          "| fast/ref wall | latent rel. L2 vs ref | capture evals |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    by = {(e, s): sec for e, s, sec, _, _ in rows}
    for edit, schedule, seconds, stats, peak in rows:
        ratio = dev = ""
        if schedule == "fast":
            ratio = f"{seconds / by[edit, 'reference']:.3f}"
            dev = f"{relative_l2(latents[edit, 'fast'], latents[edit, 'reference']):.4f}"
        print(f"| {edit} | {schedule} | {seconds:.2f} | {stats['unet_evals']} | {stats['unet_calls']} | {_phases(stats)} "
              f"| {peak:.2f} | {ratio} | {dev} | {stats['capture_evals']} |")
    print(f"| move, moved again (branch reuse) | fast | {again_s:.2f} | {again.stats['unet_evals']} "
          f"| {again.stats['unet_calls']} | {_phases(again.stats)} | | | | {again.stats['capture_evals']} |")
    print()


def _phases(stats) -> str:
    p = stats.get("phase_seconds", {})
    return " / ".join(f"{p.get(k, 0.0):.2f}" for k in ("invert", "denoise", "decode", "compose"))


def time_calls(r, device, dtype, size, sync, card, batches=(1, 2, 4, 8), reps: int = 10) -> None:
    """Seconds per UNet call by batch size, eager and (on CUDA) replayed from a CUDA graph."""
    import time

    import torch

    from dedit_sdxl import graphs

    side = size // r.latent_scale
    pipe = r.model.pipe
    cond = torch.randn(1, 77, pipe.unet.config.cross_attention_dim, device=device, dtype=dtype)
    pooled = torch.randn(1, pipe.text_encoder_2.config.projection_dim, device=device, dtype=dtype)
    time_ids = torch.tensor([[size, size, 0, 0, size, size]], device=device, dtype=dtype)
    t = torch.tensor(500, device=device)
    modes = [("eager", r.unet.run)]
    if device.type == "cuda":
        g = graphs.GraphedUNet(r.unet.run, graphs.CudaBackend(device))
        modes.append(("CUDA graph", lambda x, t_, m, c, p, ti: g(x, 500, m, c, p, ti)))
    rows = []
    with torch.inference_mode():
        for batch in batches:
            x = torch.randn(batch, 4, side, side, device=device, dtype=dtype)
            row = [batch]
            for _, call in modes:
                for _ in range(2):
                    call(x, t, None, cond, pooled, time_ids)
                sync()
                t0 = time.perf_counter()
                for _ in range(reps):
                    call(x, t, None, cond, pooled, time_ids)
                sync()
                row.append((time.perf_counter() - t0) / reps)
            rows.append(row)
    print(f"UNet call time by batch size, {card}, {size}x{size}, mean of {reps} calls after 2 warm-ups\n")
    print("| batch | " + " | ".join(f"{name} s/call" for name, _ in modes) + " |")
    print("|---|" + "---|" * len(modes))
    for row in rows:
        print(f"| {row[0]} | " + " | ".join(f"{v:.4f}" for v in row[1:]) + " |")
    print()


if __name__ == "__main__":
    main()
