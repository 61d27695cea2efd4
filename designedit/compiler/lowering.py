"""The lowering stage: the scene to the values a plan is scheduled and assembled from.

`start` sizes the canvas and the render and sets up the mask resolvers; then each pass of `PASSES` takes a
`Lowering` and returns a new one with its own field filled in. The functions behind them (one module each)
take and return plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Callable, Mapping, Optional

from designedit import masks as M
from designedit.errors import DeditError
from designedit.masks import crops
from designedit.model.scene import Scene
from designedit.plan import MaskData, PlanImage, Size
from designedit.compiler.background import lower_background
from designedit.compiler.ir import BackgroundIR, LayerIR, PlacedLayer
from designedit.compiler.layers import place_layers
from designedit.compiler.lint import lint
from designedit.compiler.options import Options
from designedit.compiler.recipes import plan_images
from designedit.compiler.regions import derive_regions
from designedit.compiler.sizes import canvas_of, render_size
from designedit.compiler.transforms import transform_layers


@dataclass(frozen=True, eq=False)
class Lowering:
    """The scene as far as the passes so far have lowered it."""

    scene: Scene
    opts: Options
    canvas: Size
    render: Size
    latent: Size
    # Meters the passes share (memory accounting, not values of the scene): the resolvers of the masks the
    # plan reads and of those drawn on the canvas (one resolver but in the reference), which drop each mask
    # after its last announced use, and what the layers' canvas-size masks may take (charged by the layers
    # and transforms passes).
    resolver: M.MaskResolver
    drawn: M.MaskResolver
    layer_masks: M.Budget
    background: Optional[BackgroundIR] = None
    placed: tuple[PlacedLayer, ...] = ()
    layers: tuple[LayerIR, ...] = ()
    images: tuple[PlanImage, ...] = ()
    image_of: Mapping[str, str] = field(default_factory=dict)  # layer id -> plan image id
    masks: Mapping[str, MaskData] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def lowered_background(x: Lowering) -> BackgroundIR:
    """The background pass's value, for the passes after it."""
    if x.background is None:  # pragma: no cover - a mistake in the order of PASSES
        raise AssertionError("the background pass has not run")
    return x.background


def start(scene: Scene, opts: Options, native_size: int, derived: Optional[M.Derived] = None) -> Lowering:
    """Sizes (method 12's N x N for the reference, about N^2 pixels for the fast schedule) and resolvers."""
    canvas = canvas_of(scene)
    if native_size < 1:
        raise DeditError(f"the model's native size must be positive, not {native_size}.")
    render = render_size(canvas, opts.schedule, opts.latent_scale, int(native_size))
    latent = Size(render.width // opts.latent_scale, render.height // opts.latent_scale)
    resolver, drawn = _resolvers(scene, canvas, opts, derived)
    return Lowering(scene, opts, canvas, render, latent, resolver, drawn, M.Budget(crops.LAYER_BUDGET))


def background(x: Lowering) -> Lowering:
    reference = x.opts.schedule == "reference"
    render = (x.render.width, x.render.height) if reference else None
    return replace(x, background=lower_background(x.scene, x.canvas, x.resolver, truncate=reference, render=render))


def layers(x: Lowering) -> Lowering:
    return replace(x, placed=tuple(place_layers(x.scene, x.canvas, x.resolver, x.drawn, x.layer_masks)))


def transforms(x: Lowering) -> Lowering:
    return replace(x, layers=tuple(transform_layers(x.scene, x.placed, x.canvas, x.render, x.opts, x.layer_masks)))


def images(x: Lowering) -> Lowering:
    found, image_of = plan_images(lowered_background(x), list(x.layers), x.canvas, x.opts)
    return replace(x, images=tuple(found), image_of=image_of)


def regions(x: Lowering) -> Lowering:
    return replace(x, masks=derive_regions(lowered_background(x), x.layers, x.canvas, x.render, x.latent, x.opts))


def warnings(x: Lowering) -> Lowering:
    return replace(x, warnings=tuple(lint(x.scene, x.layers, x.canvas, lowered_background(x))))


Pass = Callable[[Lowering], Lowering]
PASSES: tuple[Pass, ...] = (background, layers, transforms, images, regions, warnings)


def lower(scene: Scene, opts: Options, native_size: int, derived: Optional[M.Derived] = None) -> Lowering:
    return reduce(lambda x, step: step(x), PASSES, start(scene, opts, native_size, derived))


def _resolvers(scene: Scene, canvas: Size, opts: Options, derived: Optional[M.Derived] = None) -> tuple[M.MaskResolver, M.MaskResolver]:
    """(the masks the plan reads, the masks drawn on the canvas): one resolver for the fast schedule; the
    reference reads mask pictures as the authors do (grey values, method 12) for every latent mask. Each
    is told every request the passes make, so that it drops a mask after its last use."""
    drawn = M.MaskResolver(scene, canvas.width, canvas.height, derived=derived)
    if opts.schedule != "reference":
        resolver = drawn
    else:
        resolver = M.MaskResolver(scene, canvas.width, canvas.height, grey_pictures=True, plain=drawn, derived=derived)
    background = scene.background.image
    for edit in scene.background.edits:
        for mask_id in (getattr(edit, "mask", None), getattr(edit, "refine", None)):
            if mask_id is not None:
                resolver.expect(mask_id, background)
    for layer in scene.layers:
        for mask_id in (layer.mask, layer.occluder):
            if mask_id is not None:
                resolver.expect(mask_id, layer.image)
        if layer.mask is not None and drawn is not resolver:
            drawn.expect(layer.mask, layer.image)
    return resolver, drawn
