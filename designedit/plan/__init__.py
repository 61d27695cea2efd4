"""The plan IR: what a renderer executes, as plain data (no torch).

A plan says, step by step, which latent branches the UNet evaluates (and with
which guidance halves), which mask keys the self-attention of which branch,
and what happens between steps (blends, fusion, proximal guidance). The
compiler builds it from a scene; renderers only execute it. `to_json` /
`from_json` round-trip it exactly; masks travel as zlib+base64 of their bytes.

Indexing conventions (method.md):
- steps are 0-based, s = 0..steps-1, running from noisiest to clean;
- an inversion trajectory has steps+1 latents z*_0 (clean) .. z*_steps; after
  denoising step s a branch sits at trajectory index `steps - s - 1`;
- masks named `*@latent` are at latent resolution (`plan.latent`), masks named
  `*@render` at the render size (`plan.render`), `*@canvas` at the canvas size.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np

PLAN_VERSION = "1"

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


@dataclass
class ImageOp:
    """One step of an image recipe, in canvas pixels (see `designedit.plan.recipes`).

    ops: "load" {src (absolute path), sha256, x, y} draws a picture with its
    top-left at (x, y) over the frame; "affine" {matrix: 2x3 row-major,
    canvas -> canvas} warps the frame (border replicated); "pan" {dx, dy} and
    "zoom-out" {factor[, truncate]} paste the shifted/shrunk frame over itself.
    """

    op: str
    args: dict[str, Any] = field(default_factory=dict)


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

    id: str  # "S", "L0", "C", "C^", "L1".. (layer branches are named after layers in `layer`)
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
class LatentRef:
    """Where a latent comes from: a branch's current value, or an inversion trajectory entry."""

    branch: Optional[str] = None
    inversion: Optional[str] = None  # PlanImage id
    index: Optional[int] = None  # trajectory index, with `inversion`


@dataclass
class FuseLayer:
    source: LatentRef
    mask: str  # latent mask in the layer's own frame (before the move)
    dx: int  # latent cells, + right
    dy: int  # latent cells, + down


@dataclass
class Op:
    """Something done between UNet calls, after the step's scheduler update.

    kinds and their fields:
    - "set":      target := source                                 (initialise a branch)
    - "blend":    target := target * mask + source * (1 - mask)    (Eq. 2 and Eq. 5's second line)
    - "fuse":     target := source; then per layer paste Move(layer) where Move(mask)   (Eq. 3)
    - "proximal": target -= scale * (target - trajectory) * (1 - E),
                  E = dilate5(|cond-uncond| > quantile_q), E := 1 inside `mask` (or everywhere if mask == "*")
    - "drop":     target is not read again; a renderer may free it
    """

    kind: Literal["set", "blend", "fuse", "proximal", "drop"]
    target: str
    source: Optional[LatentRef] = None
    mask: Optional[str] = None
    layers: list[FuseLayer] = field(default_factory=list)
    trajectory: Optional[LatentRef] = None
    scale: float = 0.0
    quantile: float = 0.0
    # proximal: the branches whose |cond - uncond| form the quantile's sample, in
    # batch order (the authors take the quantile over the whole batch); empty = target alone
    pool: list[str] = field(default_factory=list)
    # proximal: how many all-zero deltas (of the target's size) join the pool; the fast
    # schedule uses it for the reference batch's branches whose halves agree exactly
    pool_zeros: int = 0


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
    masks: dict[str, MaskData]
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
                refs = [op.source, op.trajectory] + [f.source for f in op.layers]
                read.update(r.inversion for r in refs if r is not None and r.inversion is not None)
        return [i for i in self.images if i.id in read]

    # ------------------------------------------------------------ JSON

    def to_dict(self, relative_to: Optional[str | os.PathLike] = None) -> dict[str, Any]:
        """`relative_to`: a folder (`dedit plan --json`: the scene's) that `load` sources are written relative
        to, so the JSON names no absolute path; `from_dict(d, base=that folder)` reads them back."""
        d = asdict(self, dict_factory=_drop_arrays)
        d["masks"] = {name: m.to_json() for name, m in sorted(self.masks.items())}
        d["cost"]["total"] = self.cost.total
        if relative_to is not None:
            for args in _load_args(d):
                args["src"] = Path(os.path.relpath(args["src"], relative_to)).as_posix()
        return d

    def to_json(self, indent: int | None = 1, relative_to: Optional[str | os.PathLike] = None) -> str:
        return json.dumps(self.to_dict(relative_to), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any], base: Optional[str | os.PathLike] = None) -> "Plan":
        """`base`: the folder relative `load` sources are relative to (`to_dict(relative_to=...)`); without it
        they stay as written."""
        if base is not None:
            d = copy.deepcopy(d)
            for args in _load_args(d):
                args["src"] = os.path.normpath(os.path.join(Path(base).resolve(), args["src"]))
        ref = lambda r: LatentRef(**r) if r is not None else None  # noqa: E731
        cost = dict(d["cost"])
        cost.pop("total", None)
        return cls(
            schedule=d["schedule"],
            steps=d["steps"],
            guidance_scale=d["guidance_scale"],
            prompt=d["prompt"],
            seed=d["seed"],
            canvas=Size(**d["canvas"]),
            render=Size(**d["render"]),
            latent_scale=d["latent_scale"],
            latent=Size(**d["latent"]),
            scheduler=d["scheduler"],
            images=[PlanImage(i["id"], i["key"], [ImageOp(**o) for o in i["ops"]], i["cacheable"]) for i in d["images"]],
            branches=[Branch(**b) for b in d["branches"]],
            masks={k: MaskData.from_json(k, v) for k, v in d["masks"].items()},
            layers=[
                PlanLayer(**{**l, "rounding_px": tuple(l["rounding_px"]), "applied_px": tuple(l["applied_px"])})
                for l in d["layers"]
            ],
            plan_steps=[
                Step(
                    s["index"],
                    s["timestep"],
                    [Eval(**e) for e in s["evals"]],
                    [
                        Op(
                            **{
                                **o,
                                "source": ref(o["source"]),
                                "trajectory": ref(o["trajectory"]),
                                "layers": [FuseLayer(**{**f, "source": ref(f["source"])}) for f in o["layers"]],
                            }
                        )
                        for o in s["ops"]
                    ],
                )
                for s in d["plan_steps"]
            ],
            output=d["output"],
            edit_region=d["edit_region"],
            background=d["background"],
            cost=Cost(**cost),
            notes=d["notes"],
            scene_hash=d["scene_hash"],
            warnings=d.get("warnings", []),  # plans written before warnings existed
            version=d["version"],
        )

    @classmethod
    def from_json(cls, text: str, base: Optional[str | os.PathLike] = None) -> "Plan":
        return cls.from_dict(json.loads(text), base)


def _load_args(d: dict[str, Any]) -> list[dict[str, Any]]:
    """The arguments of every `load` op in a plan dict (where picture paths are)."""
    return [op["args"] for image in d["images"] for op in image["ops"] if op["op"] == "load"]


def _drop_arrays(items: list[tuple[str, Any]]) -> dict[str, Any]:
    # MaskData holds numpy arrays; they are serialised separately in to_dict.
    return {k: (None if isinstance(v, np.ndarray) else v) for k, v in items}


# ---------------------------------------------------------------- scheduler arithmetic

# The method's DDIM settings (method.md 1): the authors build DDIMScheduler(these) and hand it to the
# pipeline, so diffusers' defaults hold for the rest: steps_offset 0 and "leading" spacing, t = 980 .. 0
# at 50 steps. (SDXL's own scheduler config says steps_offset 1, t = 981 .. 1; a model's config is
# overridden by these, whatever it says.)
DDIM_SETTINGS: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 0,
    "timestep_spacing": "leading",
}


def ddim_timesteps(steps: int, settings: dict[str, Any] = DDIM_SETTINGS) -> list[int]:
    """The timesteps diffusers' DDIMScheduler uses for `steps` steps, noisiest first."""
    n = settings["num_train_timesteps"]
    if settings.get("timestep_spacing", "leading") != "leading":
        raise ValueError("only 'leading' timestep spacing is planned for")
    ratio = n // steps
    return [s * ratio + settings["steps_offset"] for s in reversed(range(steps))]
