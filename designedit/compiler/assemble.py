"""The assembling stage: the plan from the lowered scene and its schedule, with its cost, notes and scene hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from designedit.checks.paths import resolve_reference
from designedit.errors import Problem, SceneError
from designedit.imaging.files import file_sha256
from designedit.model.scene import Scene
from designedit.plan import DDIM_SETTINGS, Cost, Plan, PlanLayer
from designedit.compiler import costs
from designedit.compiler.ir import LayerIR
from designedit.compiler.lowering import Lowering, lowered_background
from designedit.compiler.schedule import ScheduleInput, Scheduled
from designedit.plan import names as N


def assemble(x: Lowering, given: ScheduleInput, scheduled: Scheduled) -> Plan:
    plan = Plan(
        schedule=x.opts.schedule,
        steps=x.opts.steps,
        guidance_scale=x.opts.guidance,
        prompt=x.opts.prompt,
        seed=x.opts.seed,
        canvas=x.canvas,
        render=x.render,
        latent_scale=x.opts.latent_scale,
        latent=x.latent,
        scheduler=dict(DDIM_SETTINGS),
        images=list(x.images),
        branches=scheduled.branches,
        masks=dict(x.masks),
        layers=[_plan_layer(l, x.image_of[l.id]) for l in x.layers],
        plan_steps=scheduled.steps,
        output=scheduled.output,
        edit_region=N.EDIT_CANVAS,
        background=N.BACKGROUND,
        cost=Cost(0, 0),  # counted below, from what the plan reads
        notes=_notes(x, given),
        warnings=list(x.warnings),
        scene_hash=_scene_hash(x.scene),
    )
    return replace(plan, cost=costs.count(plan))


def _plan_layer(l: LayerIR, image: str) -> PlanLayer:
    return PlanLayer(
        id=l.id,
        branch=N.layer_branch(l.index),
        image=image,
        mask_latent=N.layer_latent(l.id),
        mask_canvas=N.layer_canvas(l.id),
        dx_px=float(l.dx_px),
        dy_px=float(l.dy_px),
        dx=l.dx,
        dy=l.dy,
        applied_px=(float(l.applied_px[0]), float(l.applied_px[1])),
        rounding_px=(float(l.rounding_px[0]), float(l.rounding_px[1])),
        occluder=N.occluder_latent(l.id) if l.occluder_frame is not None else None,
    )


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


def _notes(x: Lowering, given: ScheduleInput) -> list[str]:
    opts, canvas, render, windows = x.opts, x.canvas, x.render, given.windows
    notes = []
    if opts.schedule == "reference":
        notes.append(f"render {render.width}x{render.height}: the reference squashes the {canvas.width}x{canvas.height} canvas to {render.width}x{render.height}")
    else:
        notes.append(f"render {render.width}x{render.height} for the {canvas.width}x{canvas.height} canvas (aspect kept, about 1 MP, sides multiples of 64)")
    for kind, args in lowered_background(x).geometry:
        what = f"pan by ({args[0]}, {args[1]}) px" if kind == "pan" else f"zoom-out by {args[0]:g}"
        notes.append(f"{what}: lowered to removal of the uncovered region (dilation 30 at 1024 px)")
    how = "toward zero" if opts.schedule == "reference" else "to nearest"
    for l in x.layers:
        if l.dx_px or l.dy_px:
            notes.append(
                f"layer {l.id}: move ({l.dx_px:g}, {l.dy_px:g}) px -> ({l.dx}, {l.dy}) latent cells ({how}) = "
                f"({l.applied_px[0]:.2f}, {l.applied_px[1]:.2f}) px; rounding ({l.rounding_px[0]:.2f}, {l.rounding_px[1]:.2f}) px"
            )
        if l.matrix is not None:
            notes.append(f"layer {l.id}: resize/flip/rotate folded into one image-level affine about the mask centroid ({l.centroid[0]:.1f}, {l.centroid[1]:.1f})")
        if l.cuts:
            notes.append(f"layer {l.id}: cut from the background (its mask joins the removal mask)")
    if opts.schedule == "fast" and given.unchanged:
        notes.append("nothing in this scene changes a pixel: the output is the background picture, no UNet work")
    if opts.schedule == "fast" and given.layers and given.remove_empty:
        notes.append("nothing is removed: L0 is not evaluated; the fusion starts from the background trajectory")
    if given.occlusion:
        notes.append(f"occlusion: canvas fused after every step 0..{windows.fusion}, C^ key-masked by the moved occluders; output C^")
    return notes
