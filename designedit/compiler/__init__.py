"""The compiler: a scene in, a plan out, through small passes (one module each).

    sizes       canvas and render size
    background  background edits; pan / zoom-out lowered to removal
    layers      each layer's mask where its picture sits; does it cut
    transforms  fold resize/flip/rotate (image level) and moves (latent cells)
    recipes     the images to invert
    regions     removal / refine / layer / occlusion / edit masks
    lint        warnings: what compiles but is probably not meant
    schedule    branches and steps, reference or fast
    costs       UNet sample-evaluations

`compile_scene` runs them; see spec/compiler.md for the lowering.
"""

from __future__ import annotations

import hashlib
import json
from typing import Optional

from designedit.checks import limits
from designedit.checks import arguments
from designedit import masks as M
from designedit.errors import DeditError, Problem, SceneError
from designedit.imaging.files import file_sha256
from designedit.model.scene import Scene
from designedit.checks.paths import resolve_reference
from designedit.plan import DDIM_SETTINGS, Cost, Plan, PlanLayer, Size, ddim_timesteps
from designedit.compiler import costs, schedule as sched
from designedit.compiler.background import lower_background, map_through
from designedit.compiler.context import Options, place
from designedit.compiler.layers import resolve_layers
from designedit.compiler.lint import lint
from designedit.compiler.recipes import plan_images
from designedit.compiler.regions import derive_regions
from designedit.compiler.sizes import NATIVE_SIZE, canvas_of, render_size
from designedit.compiler.transforms import apply_transforms
from designedit.compiler.windows import Windows

DEFAULT_STEPS = 50
DEFAULT_GUIDANCE = 7.5

__all__ = ["compile_scene", "resolve_options"]


def resolve_options(scene: Scene, schedule: Optional[str], steps: Optional[int], latent_scale: int, seed: Optional[int], guidance: Optional[float]) -> Options:
    r = scene.render
    # given settings are checked here (ArgumentError, status 2); the document's were checked by the reader
    schedule = arguments.schedule(schedule) if schedule is not None else (r.schedule if r and r.schedule else "fast")
    steps = arguments.steps(steps) if steps is not None else (r.steps if r and r.steps else DEFAULT_STEPS)
    if latent_scale < 1:
        raise DeditError(f"the latent scale must be positive, not {latent_scale}.")
    seed = arguments.seed(seed) if seed is not None else (r.seed if r and r.seed is not None else 0)
    guidance = guidance if guidance is not None else (r.guidance if r and r.guidance is not None else DEFAULT_GUIDANCE)
    return Options(schedule, int(steps), int(latent_scale), int(seed), float(guidance), scene.prompt or "")


def _scene_hash(scene: Scene) -> str:
    """The scene model and the content of every file it names: the same for every schedule and step count
    (those are recorded beside it), different after any edit of the document or of a picture."""
    h = hashlib.sha256(json.dumps(scene.model_dump(mode="json"), sort_keys=True).encode())
    named = [(i.src, f"image {i.id!r}") for i in scene.images] + [(m.src, f"mask {m.id!r}") for m in scene.masks if m.src]
    for src, what in named:
        path = resolve_reference(scene.origin, src, what)
        try:
            h.update(file_sha256(path).encode())
        except OSError as exc:  # a scene built or loaded without its files checked
            raise SceneError(Problem(what, f"{src!r} cannot be read ({exc.strerror or exc})")) from None
    return h.hexdigest()[:32]


def compile_scene(
    scene: Scene,
    schedule: Optional[str] = "fast",
    steps: Optional[int] = None,
    latent_scale: int = 8,
    seed: Optional[int] = None,
    guidance: Optional[float] = None,
    native_size: int = NATIVE_SIZE,
) -> Plan:
    """Compile `scene` (loaded, so it has an origin) into a plan for `schedule`.

    `latent_scale` and `native_size` describe the model (its VAE factor, and the
    side in pixels it was trained at: 8 and 1024 for SDXL)."""
    if scene.origin is None:
        raise SceneError(Problem("<scene>", "the scene has no origin; load it from a file or give it one with with_origin"))
    limits.check(scene, lambda path: place(scene, path))  # a scene built in code skipped the reader's checks
    from designedit.io import versions  # the reader's module, like place()

    versions.check(scene, lambda path: place(scene, path))
    opts = resolve_options(scene, schedule, steps, latent_scale, seed, guidance)
    canvas = canvas_of(scene)
    if native_size < 1:
        raise DeditError(f"the model's native size must be positive, not {native_size}.")
    render = render_size(canvas, opts.schedule, opts.latent_scale, int(native_size))
    latent = Size(render.width // opts.latent_scale, render.height // opts.latent_scale)
    resolver, drawn = _resolvers(scene, canvas, opts)
    reference = opts.schedule == "reference"
    bg = lower_background(scene, canvas, resolver, truncate=reference, render=(render.width, render.height) if reference else None)
    layer_masks = M.Budget(M.crops.LAYER_BUDGET)
    layers = resolve_layers(scene, canvas, resolver, drawn, layer_masks)
    apply_transforms(scene, layers, canvas, render, opts, layer_masks)
    images, image_of = plan_images(bg, layers, canvas, opts)
    masks = derive_regions(bg, layers, canvas, render, latent, opts, lambda m: map_through(m, bg.geometry))

    windows = Windows.for_steps(opts.steps)
    timesteps = ddim_timesteps(opts.steps)
    slots = [sched.LayerSlot(l.id, f"L{l.index}", image_of[l.id], f"layer:{l.id}@latent", l.dx, l.dy) for l in layers]
    occluded = [l for l in layers if l.occluder_frame is not None]
    x = sched.ScheduleInput(
        steps=opts.steps,
        timesteps=timesteps,
        windows=windows,
        layers=slots,
        has_refine="refine@latent" in masks,
        remove_empty=not masks["remove@latent"].data.any(),
        occlusion=bool(occluded),
        occlude_empty=bool(occluded) and not masks["occlude@latent"].data.any(),
        unchanged=_changes_nothing(layers, masks),
    )
    scheduled = sched.reference(x) if opts.schedule == "reference" else sched.fast(x)

    plan_layers = [
        PlanLayer(
            id=l.id,
            branch=f"L{l.index}",
            image=image_of[l.id],
            mask_latent=f"layer:{l.id}@latent",
            mask_canvas=f"layer:{l.id}@canvas",
            dx_px=float(l.dx_px),
            dy_px=float(l.dy_px),
            dx=l.dx,
            dy=l.dy,
            applied_px=(float(l.applied_px[0]), float(l.applied_px[1])),
            rounding_px=(float(l.rounding_px[0]), float(l.rounding_px[1])),
            occluder=f"occlude:{l.id}@latent" if l.occluder_frame is not None else None,
        )
        for l in layers
    ]
    notes = _notes(opts, canvas, render, windows, bg, layers, x)
    plan = Plan(
        schedule=opts.schedule,
        steps=opts.steps,
        guidance_scale=opts.guidance,
        prompt=opts.prompt,
        seed=opts.seed,
        canvas=canvas,
        render=render,
        latent_scale=opts.latent_scale,
        latent=latent,
        scheduler=dict(DDIM_SETTINGS),
        images=images,
        branches=scheduled.branches,
        masks=masks,
        layers=plan_layers,
        plan_steps=scheduled.steps,
        output=scheduled.output,
        edit_region="edit@canvas",
        background="bg",
        cost=Cost(0, 0),  # counted below, from what the plan reads
        notes=notes,
        warnings=lint(scene, layers, canvas, bg),
        scene_hash=_scene_hash(scene),
    )
    plan.cost = costs.count(plan)
    return plan


def _resolvers(scene: Scene, canvas: Size, opts: Options) -> tuple[M.MaskResolver, M.MaskResolver]:
    """(the masks the plan reads, the masks drawn on the canvas): one resolver for the fast schedule; the
    reference reads mask pictures as the authors do (grey values, method 12) for every latent mask. Each
    is told every request the passes below make, so that it drops a mask after its last use."""
    drawn = M.MaskResolver(scene, canvas.width, canvas.height)
    if opts.schedule != "reference":
        resolver = drawn
    else:
        resolver = M.MaskResolver(scene, canvas.width, canvas.height, grey_pictures=True, plain=drawn)
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


def _changes_nothing(layers, masks) -> bool:
    """No layer, and no pixel that may change (the edit region covers removals, refines' removals,
    pan/zoom/outpaint holes): paste-back would give the source back exactly."""
    if layers or masks["edit@canvas"].data.any() or masks["remove@latent"].data.any():
        return False
    return "refine@latent" not in masks or not masks["refine@latent"].data.any()


def _notes(opts, canvas, render, windows, bg, layers, x) -> list[str]:
    notes = []
    if opts.schedule == "reference":
        notes.append(f"render {render.width}x{render.height}: the reference squashes the {canvas.width}x{canvas.height} canvas to {render.width}x{render.height}")
    else:
        notes.append(f"render {render.width}x{render.height} for the {canvas.width}x{canvas.height} canvas (aspect kept, about 1 MP, sides multiples of 64)")
    for kind, args in bg.geometry:
        what = f"pan by ({args[0]}, {args[1]}) px" if kind == "pan" else f"zoom-out by {args[0]:g}"
        notes.append(f"{what}: lowered to removal of the uncovered region (dilation 30 at 1024 px)")
    how = "toward zero" if opts.schedule == "reference" else "to nearest"
    for l in layers:
        if l.dx_px or l.dy_px:
            notes.append(
                f"layer {l.id}: move ({l.dx_px:g}, {l.dy_px:g}) px -> ({l.dx}, {l.dy}) latent cells ({how}) = "
                f"({l.applied_px[0]:.2f}, {l.applied_px[1]:.2f}) px; rounding ({l.rounding_px[0]:.2f}, {l.rounding_px[1]:.2f}) px"
            )
        if l.matrix is not None:
            notes.append(f"layer {l.id}: resize/flip/rotate folded into one image-level affine about the mask centroid ({l.centroid[0]:.1f}, {l.centroid[1]:.1f})")
        if l.cuts:
            notes.append(f"layer {l.id}: cut from the background (its mask joins the removal mask)")
    if opts.schedule == "fast" and x.unchanged:
        notes.append("nothing in this scene changes a pixel: the output is the background picture, no UNet work")
    if opts.schedule == "fast" and x.layers and x.remove_empty:
        notes.append("nothing is removed: L0 is not evaluated; the fusion starts from the background trajectory")
    if x.occlusion:
        notes.append(f"occlusion: canvas fused after every step 0..{windows.fusion}, C^ key-masked by the moved occluders; output C^")
    return notes
