"""Relative L2 between the output latents two bench/sdxl_gpu.py processes saved (--save-latents A, B).

    python bench/compare_latents.py A.pt B.pt

Says how far a kernel experiment (B) moved each render from the default (A): the same
arithmetic in another order gives bf16 rounding differences, which a random-weight UNet
amplifies over 50 steps; the fast-vs-reference column of the bench is the yardstick.
"""

import sys

import torch


def main() -> None:
    a, b = (torch.load(p) for p in sys.argv[1:3])
    for key in sorted(a.keys() & b.keys()):
        x, y = a[key].double().flatten(), b[key].double().flatten()
        print(f"latent rel. L2, {key}: {float((y - x).norm() / x.norm()):.4f} (max |diff| {float((y - x).abs().max()):.4f})")


if __name__ == "__main__":
    main()
