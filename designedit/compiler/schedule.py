"""Pass: schedule the branches step by step, for the reference and the fast schedule.

Reference (method 3-8, the authors' computation): batch [S, L0, C, (C^), L1..LN],
both guidance halves on every branch every step; L0's cond half key-masked
on the key window (refine mask OR'd in on the refine window); proximal
guidance on every branch where t < 400 (then the blend, then the fusion, the
authors' order); Eq. 2 blends from the denoised source; one-shot fusion into
C from L0 and the denoised layer branches; output C (L0 when there are no
layers). With an occluder (method 10, absent from the authors' code): C is
fused after every step up to the fusion step, C^ is key-masked by the moved
occluders on the key window and takes its outside from C after each of those
steps; C^ is the output; everything still runs every step with both halves.

Fast: S and the layer branches are never evaluated (blends and fusion read
the inversion trajectories); L0 runs both halves only while key-masked (only
the cond half otherwise) and only until the fusion; C runs cond-only from the
step after the fusion; proximal guidance only where it is not a no-op (L0;
canvases are forced to E = 1 everywhere; its quantile pools C^'s delta like the
reference's); a branch is dropped after its last
read; when nothing is removed, L0 is not evaluated at all and the fusion
starts from the background trajectory. When nothing changes at all (no
layer, empty edit region) there are no branches and no steps: the output is
the background picture itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from designedit.plan.ir import Branch, Eval, Step
from designedit.plan.names import (BACKGROUND as BG, CANVAS_BRANCH as C, EVERYWHERE, OCCLUDE_LATENT, OCCLUSION as C_HAT,
                                   REFINE_LATENT, REMOVAL as L0, REMOVE_LATENT, SOURCE as S)
from designedit.plan.ops import BlendOp, DropOp, FuseLayer, FuseOp, LatentRef, Op, ProximalOp
from designedit.compiler.windows import PROXIMAL_BELOW_T, PROXIMAL_QUANTILE, PROXIMAL_SCALE, Windows

BOTH = ["uncond", "cond"]
COND = ["cond"]


@dataclass
class LayerSlot:
    id: str
    branch: str
    image: str
    mask: str  # latent mask name
    dx: int
    dy: int


@dataclass
class ScheduleInput:
    steps: int
    timesteps: list[int]
    windows: Windows
    layers: list[LayerSlot]
    has_refine: bool
    remove_empty: bool
    occlusion: bool
    occlude_empty: bool = False
    unchanged: bool = False  # no layer and an empty edit region: paste-back would return the source


@dataclass
class Scheduled:
    branches: list[Branch]
    steps: list[Step]
    output: str


def _branches(x: ScheduleInput) -> list[Branch]:
    out = [Branch(S, "source", BG), Branch(L0, "removal", BG)]
    if x.layers:
        out.append(Branch(C, "canvas", BG))
        if x.occlusion:
            out.append(Branch(C_HAT, "occlusion", BG))
        out += [Branch(l.branch, "layer", l.image, layer=l.id) for l in x.layers]
    return out


def _output(x: ScheduleInput) -> str:
    if not x.layers:
        return L0
    return C_HAT if x.occlusion else C


def _l0_keymask(x: ScheduleInput, s: int) -> Optional[str]:
    if x.has_refine and s in x.windows.refine:
        return REFINE_LATENT
    if s in x.windows.key:
        return REMOVE_LATENT
    return None


def _proximal(
    branch: str, image: str, index: int, mask: Optional[str], pool: Optional[list[str]] = None, pool_zeros: int = 0
) -> Op:
    return ProximalOp(
        branch,
        mask=mask,
        trajectory=LatentRef(inversion=image, index=index),
        scale=PROXIMAL_SCALE,
        quantile=PROXIMAL_QUANTILE,
        pool=tuple(pool or ()),
        pool_zeros=pool_zeros,
    )


def _fuse(x: ScheduleInput, source: LatentRef, layer_ref) -> FuseOp:
    return FuseOp(C, source, tuple(FuseLayer(layer_ref(l), l.mask, l.dx, l.dy) for l in x.layers))


def _occlusion_blend() -> BlendOp:
    """Eq. 5's second line: C^ takes its outside from C."""
    return BlendOp(C_HAT, LatentRef(branch=C), OCCLUDE_LATENT)


def reference(x: ScheduleInput) -> Scheduled:
    branches = _branches(x)
    image_of = {b.id: b.image for b in branches}
    proximal_mask = {L0: REMOVE_LATENT, C: EVERYWHERE, C_HAT: EVERYWHERE}
    w, T = x.windows, x.steps
    steps: list[Step] = []
    for s in range(T):
        evals = [Eval(S, BOTH), Eval(L0, BOTH, _l0_keymask(x, s))]
        if x.layers:
            evals.append(Eval(C, BOTH))
            if x.occlusion:
                evals.append(Eval(C_HAT, BOTH, OCCLUDE_LATENT if s in w.key and s <= w.fusion else None))
            evals += [Eval(l.branch, BOTH) for l in x.layers]
        ops: list[Op] = []
        if x.timesteps[s] < PROXIMAL_BELOW_T:
            # the authors take the |delta| quantile over the whole batch
            pool = [e.branch for e in evals]
            ops += [_proximal(e.branch, image_of[e.branch], T - s - 1, proximal_mask.get(e.branch), pool) for e in evals]
        if s in w.blend:
            ops.append(BlendOp(L0, LatentRef(branch=S), REMOVE_LATENT))
        fuse_now = x.layers and (s == w.fusion or (x.occlusion and s <= w.fusion))
        if fuse_now:
            ops.append(_fuse(x, LatentRef(branch=L0), lambda l: LatentRef(branch=l.branch)))
            if x.occlusion:
                ops.append(_occlusion_blend())
        steps.append(Step(s, x.timesteps[s], evals, ops))
    return Scheduled(branches, steps, _output(x))


def fast(x: ScheduleInput) -> Scheduled:
    if x.unchanged:
        return Scheduled([], [], BG)  # output = the background image itself (spec/plan.md)
    branches = _branches(x)
    w, T = x.windows, x.steps
    evaluate_l0 = not x.layers or not x.remove_empty
    steps: list[Step] = []
    for s in range(T):
        traj = T - s - 1
        evals: list[Eval] = []
        l0_active = evaluate_l0 and (not x.layers or s <= w.fusion)
        if l0_active:
            key = None if x.remove_empty else _l0_keymask(x, s)
            evals.append(Eval(L0, BOTH if key else COND, key))
        if x.occlusion:
            key = OCCLUDE_LATENT if (s in w.key and s <= w.fusion and not x.occlude_empty) else None
            evals.append(Eval(C_HAT, BOTH if key else COND, key))
        elif x.layers and s > w.fusion:
            evals.append(Eval(C, COND))

        ops: list[Op] = []
        if s == 0:  # streams whose latents always come from trajectories
            never = [S] + [l.branch for l in x.layers] + ([] if evaluate_l0 else [L0])
            ops += [DropOp(b) for b in never]
        if l0_active and x.timesteps[s] < PROXIMAL_BELOW_T:
            # the reference pools |cond - uncond| over its whole batch: L0 and C^ (key-masked on the key
            # window, so its halves differ there) with their own deltas, every other branch with identical
            # halves (delta 0); C^ is evaluated every step here (one half, so zeros, when not key-masked)
            pool = [L0] + ([C_HAT] if x.occlusion else [])
            ops.append(_proximal(L0, BG, traj, REMOVE_LATENT, pool, len(branches) - len(pool)))
        if l0_active and s in w.blend:
            ops.append(BlendOp(L0, LatentRef(inversion=BG, index=traj), REMOVE_LATENT))
        if x.layers and (s == w.fusion or (x.occlusion and s <= w.fusion)):
            source = LatentRef(branch=L0) if evaluate_l0 else LatentRef(inversion=BG, index=traj)
            ops.append(_fuse(x, source, lambda l: LatentRef(inversion=l.image, index=traj)))
            if x.occlusion:
                ops.append(_occlusion_blend())
        if x.layers and s == w.fusion:
            ops += [DropOp(b) for b in ([L0] if evaluate_l0 else []) + ([C] if x.occlusion else [])]
        steps.append(Step(s, x.timesteps[s], evals, ops))
    return Scheduled(branches, steps, _output(x))
