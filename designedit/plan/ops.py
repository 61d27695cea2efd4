"""What happens to latents between UNet calls: one frozen class per op kind.

Ops run after the step's scheduler update, in order (spec/plan.md); consumers
take them apart with `match`. Each class's `kind` is its name in the plan JSON,
where plan version 1 writes every op as one flat record of all the op fields
(`OP_FORM`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Optional, Union

from designedit.plan.codec import Tagged, Variant
from designedit.plan.names import EVERYWHERE


@dataclass(frozen=True)
class LatentRef:
    """Where a latent comes from: a branch's current value, or an inversion trajectory entry."""

    branch: Optional[str] = None
    inversion: Optional[str] = None  # PlanImage id
    index: Optional[int] = None  # trajectory index, with `inversion`


@dataclass(frozen=True)
class FuseLayer:
    """One layer pasted by a FuseOp."""

    source: LatentRef
    mask: str  # latent mask in the layer's own frame (before the move)
    dx: int  # latent cells, + right
    dy: int  # latent cells, + down


class BlendOp(Variant, kind="blend"):  # target := target * mask + source * (1 - mask): Eq. 2, Eq. 5's second line
    target: str
    source: LatentRef
    mask: str  # latent mask: 1 keeps the target


class SetOp(Variant, kind="set"):  # target := source (initialise a branch)
    target: str
    source: LatentRef


class FuseOp(Variant, kind="fuse"):  # target := source; then per layer, Move(its latent) pasted where Move(its mask): Eq. 3
    target: str
    source: LatentRef
    layers: tuple[FuseLayer, ...]


# target -= scale * (target - trajectory) * (1 - E), E = dilate5(|cond - uncond| > its quantile-th quantile)
class ProximalOp(Variant, kind="proximal"):
    target: str
    mask: Optional[str]  # forced into E (names.EVERYWHERE: all of it, nothing is pulled); None: E alone
    trajectory: LatentRef
    scale: float
    quantile: float
    # the branches whose |cond - uncond| form the quantile's sample, in batch order (the
    # authors take the quantile over the whole batch); empty = the target alone
    pool: tuple[str, ...] = ()
    # how many all-zero deltas (of the target's size) join the pool; the fast schedule uses
    # it for the reference batch's branches whose halves agree exactly
    pool_zeros: int = 0


class DropOp(Variant, kind="drop"):  # target is not read again; a renderer may free it
    target: str


# plan version 1's op record: every field, in this order, whatever the kind
OP_FORM = Tagged(
    "kind",
    pad=(("target", None), ("source", None), ("mask", None), ("layers", []), ("trajectory", None),
         ("scale", 0.0), ("quantile", 0.0), ("pool", []), ("pool_zeros", 0)),
)

Op = Annotated[Union[SetOp, BlendOp, FuseOp, ProximalOp, DropOp], OP_FORM]


def latent_reads(op: Op) -> list[LatentRef]:
    """The latents an op reads besides its target's."""
    match op:
        case SetOp(source=ref) | BlendOp(source=ref) | ProximalOp(trajectory=ref):
            return [ref]
        case FuseOp(source=source, layers=layers):
            return [source, *(layer.source for layer in layers)]
        case _:
            return []


def mask_reads(op: Op) -> list[str]:
    """The names of the masks an op reads."""
    match op:
        case BlendOp(mask=mask):
            return [mask]
        case ProximalOp(mask=mask):
            return [] if mask in (None, EVERYWHERE) else [mask]
        case FuseOp(layers=layers):
            return [layer.mask for layer in layers]
        case _:
            return []
