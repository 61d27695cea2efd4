"""The plan interpreter: executes `plan.plan_steps` exactly as spec/plan.md says.

Per step: one batched UNet call over the step's evals (each guidance half is a
batch entry; the key-masking state marks which entries are masked), guidance,
one DDIM step per evaluated branch, then the step's ops in order. Branch
latents stay float32 between steps; the UNet runs in the model's dtype.

Incremental rendering: everything before the plan's first `fuse` op is a pure
function of a prefix of the plan (images, masks it reads, steps, ops) and of
the model. Its state (every live branch latent and the step's guidance deltas)
is memoised under a hash of that prefix, so a plan that differs only after it
(layer moves change only the fuse op) resumes there and pays only for fusion
and harmonisation.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from designedit.errors import DeditError
from designedit.plan import names
from designedit.plan.codec import encode
from designedit.plan.ir import Plan, Step
from designedit.plan.ops import BlendOp, DropOp, FuseOp, LatentRef, Op, ProximalOp, SetOp

Predict = Callable[[torch.Tensor, int, Optional[torch.Tensor]], torch.Tensor]  # (x, t, keymasks) -> eps


def start_step(plan: Plan, resume: Optional[Snapshot]) -> int:
    """The plan step a run starts at: the first fuse op's step when resuming from a snapshot, else 0."""
    fuse_at = first_fuse(plan)
    return fuse_at[0] if resume is not None and fuse_at is not None else 0


@dataclass
class Snapshot:
    """Interpreter state just before the first fuse op of a plan."""

    latents: dict[str, torch.Tensor]
    deltas: dict[str, torch.Tensor]
    x0: dict[str, torch.Tensor] = field(default_factory=dict)  # the step's clean-latent estimates


@dataclass
class RunStats:
    denoise_evals: int = 0
    unet_calls: int = 0
    resumed_at_step: Optional[int] = None  # set when a snapshot was reused


@dataclass
class Interpreter:
    plan: Plan
    predict: Predict  # batched UNet noise prediction (key-masking state set by the caller's closure)
    scheduler: object  # DDIMScheduler configured with plan.scheduler and set_timesteps(plan.steps)
    trajectories: dict[str, torch.Tensor]  # image id -> (T+1, C, h, w) float32
    device: torch.device
    tick: Optional[Callable[[], None]] = None  # called once per plan step run (resumed runs skip the early ones)
    stats: RunStats = field(default_factory=RunStats)

    def __post_init__(self) -> None:
        self._masks: dict[str, torch.Tensor] = {}
        self.latents: dict[str, torch.Tensor] = {}
        self.deltas: dict[str, torch.Tensor] = {}
        self.x0: dict[str, torch.Tensor] = {}
        # the clean estimate of the branch the last fuse op started from, at that step: the decomposition's
        # background (with occlusion the canvas is fused every step through the fusion step; the last counts)
        self.fused_x0: Optional[torch.Tensor] = None

    # ------------------------------------------------------------ helpers

    def mask(self, name: str) -> torch.Tensor:
        """A latent mask as (1, 1, h, w) float32 (0/1 values are used as given)."""
        if name not in self._masks:
            if name not in self.plan.masks:
                raise DeditError(f"the plan refers to a mask {name!r} it does not contain.")
            data = self.plan.masks[name].data.astype(np.float32)
            if data.max(initial=0) > 1:  # a 0..255 mask at latent size
                data = data / 255.0
            self._masks[name] = torch.from_numpy(data)[None, None].to(self.device)
        return self._masks[name]

    def latent(self, ref: LatentRef) -> torch.Tensor:
        if ref.branch is not None:
            if ref.branch not in self.latents:
                raise DeditError(f"the plan reads branch {ref.branch!r} after it was dropped or before it exists.")
            return self.latents[ref.branch]
        return self.trajectories[ref.inversion][ref.index][None]

    # ------------------------------------------------------------ run

    def run(self, resume: Optional[Snapshot] = None, on_snapshot: Optional[Callable[[Snapshot], None]] = None):
        plan = self.plan
        if plan.output_is_background:
            raise DeditError("the plan's output is the background picture itself: there is nothing to denoise.")
        fuse_at = first_fuse(plan)
        T = plan.steps
        start = start_step(plan, resume)
        if start:
            self.latents = {k: v.to(self.device) for k, v in resume.latents.items()}
            self.deltas = {k: v.to(self.device) for k, v in resume.deltas.items()}
            self.x0 = {k: v.to(self.device) for k, v in resume.x0.items()}
            self.stats.resumed_at_step = start
        else:
            resume = None
            for b in plan.branches:
                self.latents[b.id] = self.trajectories[b.image][T][None].clone()
        for step in plan.plan_steps[start:]:
            first_op = 0
            if resume is not None and step.index == start:
                first_op = fuse_at[1]
            else:
                self.evaluate(step)
            for i, op in enumerate(step.ops[first_op:], start=first_op):
                if fuse_at is not None and on_snapshot is not None and (step.index, i) == fuse_at and resume is None:
                    on_snapshot(Snapshot({k: v.clone() for k, v in self.latents.items()},
                                         {k: v.clone() for k, v in self.deltas.items()},
                                         {k: v.clone() for k, v in self.x0.items()}))
                self.apply(op, step)
            if self.tick is not None:
                self.tick()
        if plan.output not in self.latents:
            raise DeditError(f"the plan's output branch {plan.output!r} was dropped before the end.")
        return self.latents[plan.output]

    def evaluate(self, step: Step) -> None:
        self.deltas, self.x0 = {}, {}
        if not step.evals:
            return
        rows, keymasks, any_mask = [], [], False
        for ev in step.evals:
            z = self.latents[ev.branch]
            for half in ev.halves:
                rows.append(z)
                if half == "cond" and ev.keymask:
                    keymasks.append(self.mask(ev.keymask))
                    any_mask = True
                else:
                    keymasks.append(None)
        x = torch.cat(rows)
        masks = None
        if any_mask:
            zero = torch.zeros_like(next(m for m in keymasks if m is not None))
            masks = torch.cat([zero if m is None else m for m in keymasks])
        x_in = self.scheduler.scale_model_input(x, step.timestep)
        eps = self.predict(x_in, step.timestep, masks).float()
        self.stats.denoise_evals += x.shape[0]
        self.stats.unet_calls += 1

        noises, row = [], 0
        for ev in step.evals:
            parts = dict(zip(ev.halves, eps[row : row + len(ev.halves)].split(1)))
            row += len(ev.halves)
            if "uncond" in parts and "cond" in parts:
                delta = parts["cond"] - parts["uncond"]
                noises.append(parts["uncond"] + self.plan.guidance_scale * delta)
                self.deltas[ev.branch] = delta
            else:
                noises.append(parts["cond"])
                self.deltas[ev.branch] = torch.zeros_like(parts["cond"])
        z = torch.cat([self.latents[ev.branch] for ev in step.evals])
        out = self.scheduler.step(torch.cat(noises), step.timestep, z, eta=0.0)
        for ev, z_new, x0 in zip(step.evals, out.prev_sample.split(1), out.pred_original_sample.split(1)):
            self.latents[ev.branch] = z_new
            self.x0[ev.branch] = x0

    def apply(self, op: Op, step: Step) -> None:
        match op:
            case SetOp(target=target, source=source):
                self.latents[target] = self.latent(source).clone()
            case BlendOp(target=target, source=source, mask=mask):
                m = self.mask(mask)
                self.latents[target] = self.latents[target] * m + self.latent(source) * (1 - m)
            case FuseOp(target=target, source=source, layers=layers):
                if source.branch is not None:
                    self.fused_x0 = self.x0.get(source.branch)
                z = self.latent(source).clone()
                for layer in layers:
                    m = shift(self.mask(layer.mask), layer.dx, layer.dy)
                    z = z * (1 - m) + shift(self.latent(layer.source), layer.dx, layer.dy) * m
                self.latents[target] = z
            case ProximalOp():
                self.latents[op.target] = self.proximal(op)
            case DropOp(target=target):
                self.latents.pop(target, None)
                self.deltas.pop(target, None)
            case _:
                raise DeditError(f"the plan has an op the interpreter does not know: {type(op).__name__}.")

    def proximal(self, op: ProximalOp) -> torch.Tensor:
        z = self.latents[op.target]
        if op.mask == names.EVERYWHERE:
            return z  # E is 1 everywhere: nothing is pulled
        delta = self.deltas.get(op.target, torch.zeros_like(z)).abs()
        pool = op.pool or [op.target]
        parts = [self.deltas.get(b, torch.zeros_like(z)).abs().flatten() for b in pool]
        parts += [torch.zeros(z.numel() * op.pool_zeros, dtype=z.dtype, device=z.device)]
        sample = torch.cat(parts)
        threshold = quantile(sample.double(), op.quantile).float()
        edit = F.max_pool2d((delta > threshold).float(), kernel_size=5, stride=1, padding=2)
        if op.mask:
            edit = torch.maximum(edit, self.mask(op.mask))
        return z - op.scale * (z - self.latent(op.trajectory)) * (1 - edit)


TORCH_QUANTILE_LIMIT = 2**24  # torch.quantile refuses larger inputs (hundreds of layers at 1 MP)


def quantile(x: torch.Tensor, q: float) -> torch.Tensor:
    """torch.quantile's value (linear interpolation) for inputs of any size."""
    if x.numel() <= TORCH_QUANTILE_LIMIT:
        return torch.quantile(x, q)
    return torch.tensor(np.quantile(x.detach().cpu().numpy(), q), dtype=x.dtype, device=x.device)


def shift(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Move a (B, C, h, w) tensor by whole cells (+x right, +y down); what enters is zero."""
    if dx == 0 and dy == 0:
        return x
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = x[..., ys, xs]
    return out


# ------------------------------------------------------------------ memo keys


def first_fuse(plan: Plan) -> Optional[tuple[int, int]]:
    """(step index, op index) of the plan's first fuse op, if any."""
    for step in plan.plan_steps:
        for i, op in enumerate(step.ops):
            if isinstance(op, FuseOp):
                return step.index, i
    return None


def prefix_key(plan: Plan, model_identity: str, dtype: str) -> Optional[str]:
    """A hash of everything the state before the first fuse op depends on, or None without fusion."""
    at = first_fuse(plan)
    if at is None:
        return None
    digests: dict[str, Optional[str]] = {}

    def mask_sha(name: str) -> Optional[str]:
        # only the masks the prefix reads: the canvas-size ones (edit, layers) are never hashed
        if name not in digests:
            m = plan.masks.get(name)
            digests[name] = None if m is None else hashlib.sha256(np.ascontiguousarray(m.data).tobytes()).hexdigest()
        return digests[name]

    def op_view(op: Op) -> dict:
        # the op as the plan JSON writes it (every op field, layers apart): the key stays what it was
        d = {k: v for k, v in encode(Op, op).items() if k != "layers"}
        if d["mask"] and d["mask"] != names.EVERYWHERE:
            d["mask_sha"] = mask_sha(d["mask"])
        return d

    steps = []
    for step in plan.plan_steps[: at[0] + 1]:
        ops = step.ops if step.index < at[0] else step.ops[: at[1]]
        evals = [{**e.__dict__, "keymask_sha": mask_sha(e.keymask) if e.keymask else None} for e in step.evals]
        steps.append({"t": step.timestep, "evals": evals, "ops": [op_view(o) for o in ops]})
    head = {
        "model": model_identity,
        "dtype": dtype,
        "render": [plan.render.width, plan.render.height],
        "latent": [plan.latent.width, plan.latent.height],
        "steps": plan.steps,
        "guidance": plan.guidance_scale,
        "prompt": plan.prompt,
        "scheduler": plan.scheduler,
        "images": [[i.id, i.key] for i in plan.images],
        "branches": [b.__dict__ for b in plan.branches],
        "at": list(at),
    }
    text = json.dumps([head, steps], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
