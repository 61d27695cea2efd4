"""The plan IR: what a renderer executes, as plain data (no torch).

A plan says, step by step, which latent branches the UNet evaluates (and with
which guidance halves), which mask keys the self-attention of which branch,
and what happens between steps (blends, fusion, proximal guidance). The
compiler builds it from a scene; renderers only execute it. `to_json` /
`from_json` round-trip it exactly; masks travel as zlib+base64 of their bytes.

Modules: `ir` (the plan and its parts), `ops` (latent ops between steps),
`image_ops` (image recipe steps), `codec` (JSON, by type hints), `versions`
(the plan version and the upgrade table), `names` (mask, branch and image
names), `ddim` (the scheduler settings), `recipes` (running image recipes),
`svg` and `summary` (the timeline picture and the text report).

Indexing conventions (method.md):
- steps are 0-based, s = 0..steps-1, running from noisiest to clean;
- an inversion trajectory has steps+1 latents z*_0 (clean) .. z*_steps; after
  denoising step s a branch sits at trajectory index `steps - s - 1`;
- masks named `*@latent` are at latent resolution (`plan.latent`), masks named
  `*@render` at the render size (`plan.render`), `*@canvas` at the canvas size.
"""

from __future__ import annotations

from designedit.plan.ddim import DDIM_SETTINGS, ddim_timesteps
from designedit.plan.image_ops import AffineOp, FrameOp, ImageOp, LoadOp, PanOp, ZoomOutOp
from designedit.plan.ir import Branch, Cost, Eval, Half, MaskData, Plan, PlanImage, PlanLayer, Size, Step
from designedit.plan.ops import BlendOp, DropOp, FuseLayer, FuseOp, LatentRef, Op, ProximalOp, SetOp
from designedit.plan.versions import PLAN_VERSION

__all__ = [
    "DDIM_SETTINGS", "PLAN_VERSION", "AffineOp", "BlendOp", "Branch", "Cost", "DropOp", "Eval", "FrameOp",
    "FuseLayer", "FuseOp", "Half", "ImageOp", "LatentRef", "LoadOp", "MaskData", "Op", "PanOp", "Plan",
    "PlanImage", "PlanLayer", "ProximalOp", "SetOp", "Size", "Step", "ZoomOutOp", "ddim_timesteps",
]
