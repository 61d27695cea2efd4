"""The plan: what a renderer executes, as plain data (see the package's docstring).

`Plan.to_json` / `Plan.from_json` round-trip it exactly through the generic
codec (`designedit.plan.codec`) and the version table (`designedit.plan.versions`).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, Literal, Optional

import numpy as np

from designedit.plan.codec import Custom, decode, encode
from designedit.plan.image_ops import ImageOp, LoadOp
from designedit.plan.ops import Op, latent_reads
from designedit.plan.versions import PLAN_VERSION, upgrade

Half = Literal["uncond", "cond"]


@dataclass(frozen=True)
class Size:
    width: int
    height: int


@dataclass
class MaskData:
    """A mask as uint8 0..255 (binary masks use 0/1 at latent size, 0/255 elsewhere)."""

    name: str
    data: np.ndarray  # (height, width) uint8

    def to_json(self) -> dict[str, Any]:
        a = np.ascontiguousarray(self.data, dtype=np.uint8)
        return {
            "shape": list(a.shape),
            "sha256": hashlib.sha256(a.tobytes()).hexdigest()[:16],
            "area": int(np.count_nonzero(a)),
            "zlib_b64": base64.b64encode(zlib.compress(a.tobytes(), 9)).decode("ascii"),
        }

    @classmethod
    def from_json(cls, name: str, d: dict[str, Any]) -> "MaskData":
        raw = zlib.decompress(base64.b64decode(d["zlib_b64"]))
        return cls(name, np.frombuffer(raw, dtype=np.uint8).reshape(d["shape"]).copy())


# masks travel by name, sorted, each as its compressed bytes and a digest
MASKS_FORM = Custom(
    encode=lambda masks: {name: m.to_json() for name, m in sorted(masks.items())},
    decode=lambda d: {name: MaskData.from_json(name, m) for name, m in d.items()},
)


@dataclass
class PlanImage:
    """A distinct image to invert: a recipe that yields render-size RGB pixels."""

    id: str
    key: str  # content hash of the recipe and the bytes it reads: the inversion cache key part
    ops: list[ImageOp]
    cacheable: bool = True


@dataclass
class Branch:
    """A latent stream. It starts at z*_steps of `image`'s inversion."""

    id: str  # "S", "L0", "C", "C^", "L1".. (`designedit.plan.names`; layer branches name their layer in `layer`)
    role: Literal["source", "removal", "canvas", "occlusion", "layer"]
    image: str  # PlanImage id
    layer: Optional[str] = None  # scene layer id for role == "layer"


@dataclass
class Eval:
    """One branch through the UNet at one step."""

    branch: str
    halves: list[Half]  # ["cond"] or ["uncond", "cond"]; guidance applies when both
    keymask: Optional[str] = None  # latent mask name keying the *cond* half's self-attention


@dataclass
class Step:
    index: int
    timestep: int
    evals: list[Eval]
    ops: list[Op] = field(default_factory=list)  # after the scheduler update of this step


@dataclass
class PlanLayer:
    """A scene layer as the plan sees it (for renderers, previews and reports)."""

    id: str
    branch: str
    image: str  # PlanImage id (the layer image after its image-level transforms)
    mask_latent: str  # latent mask name, layer frame
    mask_canvas: str  # canvas-size mask (feathered, 0..255), layer frame (before the move)
    dx_px: float  # requested translation, canvas pixels
    dy_px: float
    dx: int  # latent cells actually used
    dy: int
    applied_px: tuple[float, float] = (0.0, 0.0)  # translation achieved, canvas pixels
    rounding_px: tuple[float, float] = (0.0, 0.0)  # requested minus achieved, canvas pixels
    occluder: Optional[str] = None  # latent mask name of the moved occluder


@dataclass
class Cost:
    json_derived: ClassVar[tuple[str, ...]] = ("total",)

    inversion: int  # UNet sample-evaluations to invert every plan image (cold)
    denoise: int  # UNet sample-evaluations of the steps
    cacheable: list[str] = field(default_factory=list)  # PlanImage ids whose inversion a cache can serve

    @property
    def total(self) -> int:
        return self.inversion + self.denoise


@dataclass
class Plan:
    schedule: Literal["fast", "reference"]
    steps: int
    guidance_scale: float
    prompt: str
    seed: int
    canvas: Size  # the output picture's size
    render: Size  # the size the model works at
    latent_scale: int  # VAE factor the plan was compiled for
    latent: Size
    scheduler: dict[str, Any]  # DDIM settings the timesteps were computed with
    images: list[PlanImage]
    branches: list[Branch]
    masks: Annotated[dict[str, MaskData], MASKS_FORM]
    layers: list[PlanLayer]
    plan_steps: list[Step]
    output: str  # branch id decoded as the result, or `background` itself when there are no branches (see output_is_background)
    edit_region: str  # canvas-size mask: pixels that may change (paste-back keeps the rest)
    background: str  # PlanImage id of the (panned/zoomed) background
    cost: Cost
    notes: list[str] = field(default_factory=list)  # rounding and lowering reports
    scene_hash: str = ""
    warnings: list[str] = field(default_factory=list)  # what compiles but is probably not meant (one sentence each)
    version: str = PLAN_VERSION

    # ------------------------------------------------------------ access

    def image(self, image_id: str) -> PlanImage:
        return next(i for i in self.images if i.id == image_id)

    def branch(self, branch_id: str) -> Branch:
        return next(b for b in self.branches if b.id == branch_id)

    @property
    def output_is_background(self) -> bool:
        """True for a plan that changes nothing: no branches, `output` names the `background` image,
        and the result is that picture at the canvas size (nothing inverted, evaluated or decoded)."""
        return not self.branches and self.output == self.background

    def inverted_images(self) -> list[PlanImage]:
        """The images whose inversion the plan reads (a branch starts from it, or a LatentRef names it)."""
        read = {b.image for b in self.branches}
        for step in self.plan_steps:
            for op in step.ops:
                read.update(r.inversion for r in latent_reads(op) if r.inversion is not None)
        return [i for i in self.images if i.id in read]

    def steps_with(self, op_class: type, target: Optional[str] = None) -> list[int]:
        """The indices of the steps holding an op of `op_class` (into `target`, when given)."""
        return [st.index for st in self.plan_steps
                if any(isinstance(o, op_class) and target in (None, o.target) for o in st.ops)]

    # ------------------------------------------------------------ JSON

    def to_dict(self, relative_to: Optional[str | os.PathLike] = None) -> dict[str, Any]:
        """`relative_to`: a folder (`dedit plan --json`: the scene's) that `load` sources are written relative
        to, so the JSON names no absolute path; `from_dict(d, base=that folder)` reads them back."""
        plan = self
        if relative_to is not None:
            plan = self.with_sources(lambda src: Path(os.path.relpath(src, relative_to)).as_posix())
        return encode(Plan, plan)

    def to_json(self, indent: int | None = 1, relative_to: Optional[str | os.PathLike] = None) -> str:
        return json.dumps(self.to_dict(relative_to), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any], base: Optional[str | os.PathLike] = None) -> "Plan":
        """`base`: the folder relative `load` sources are relative to (`to_dict(relative_to=...)`); without it
        they stay as written. A plan of an older version is upgraded first (`designedit.plan.versions`)."""
        plan = decode(cls, upgrade(d))
        if base is not None:
            folder = Path(base).resolve()
            plan = plan.with_sources(lambda src: os.path.normpath(os.path.join(folder, src)))
        return plan

    @classmethod
    def from_json(cls, text: str, base: Optional[str | os.PathLike] = None) -> "Plan":
        return cls.from_dict(json.loads(text), base)

    def with_sources(self, move: Callable[[str], str]) -> "Plan":
        """This plan with every `load` op's picture path passed through `move` (the rest shared)."""
        def moved(op: Any) -> Any:
            return dataclasses.replace(op, src=move(op.src)) if isinstance(op, LoadOp) else op

        images = [dataclasses.replace(i, ops=[moved(o) for o in i.ops]) for i in self.images]
        return dataclasses.replace(self, images=images)
