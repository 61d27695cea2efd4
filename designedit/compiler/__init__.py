"""The compiler: a scene in, a plan out, in three stages.

    lower     the scene to canvas-size values, pass by pass (`lowering.PASSES`):
                sizes       canvas and render size (`lowering.start`)
                background  background edits; pan / zoom-out lowered to removal
                layers      each layer's mask where its picture sits; does it cut
                transforms  fold resize/flip/rotate (image level) and moves (latent cells)
                recipes     the images to invert
                regions     removal / refine / layer / occlusion / edit masks
                lint        warnings: what compiles but is probably not meant
    schedule  branches and steps, reference or fast (`schedule`)
    assemble  the plan, its cost in UNet sample-evaluations (`costs`), notes and scene hash

A pass is a function from a value to a value: nothing a pass is given is changed (`ir` holds the values).
The settings are decided once, in `options`. See spec/compiler.md for the lowering.
"""

from __future__ import annotations

from typing import Optional

from designedit.checks import limits
from designedit.errors import Problem, SceneError
from designedit.masks.derived import Derived
from designedit.model.scene import Scene
from designedit.plan import Plan, ddim_timesteps
from designedit.compiler import schedule as sched
from designedit.compiler.assemble import assemble
from designedit.compiler.located import place
from designedit.compiler.lowering import Lowering, lower
from designedit.compiler.options import resolve_options
from designedit.compiler.sizes import NATIVE_SIZE
from designedit.compiler.windows import Windows
from designedit.plan import names as N

__all__ = ["compile_scene", "resolve_options"]


def compile_scene(
    scene: Scene,
    schedule: Optional[str] = "fast",
    steps: Optional[int] = None,
    latent_scale: int = 8,
    seed: Optional[int] = None,
    guidance: Optional[float] = None,
    native_size: int = NATIVE_SIZE,
    derived: Optional[Derived] = None,
) -> Plan:
    """Compile `scene` (loaded, so it has an origin) into a plan for `schedule`.

    `schedule`, `steps`, `seed`, `guidance`: None takes the scene's `<render>` setting, else the default
    (`options`). `latent_scale` and `native_size` describe the model (its VAE factor, and the side in pixels
    it was trained at: 8 and 1024 for SDXL). `derived`: the maps of the scene's attention shapes
    (masks.derived; a renderer that runs a model derives them, `designedit.rendering.derive`); a needed map
    that is missing is refused at its shape, unless `derived.stand_in`."""
    _check(scene)
    opts = resolve_options(scene, schedule, steps, latent_scale, seed, guidance)
    lowered = lower(scene, opts, native_size, derived)
    given, scheduled = schedule_steps(lowered)
    return assemble(lowered, given, scheduled)


def _check(scene: Scene) -> None:
    """What the reader checks, for a scene built in code."""
    if scene.origin is None:
        raise SceneError(Problem("<scene>", "the scene has no origin; load it from a file or give it one with with_origin"))
    limits.check(scene, lambda path: place(scene, path))
    from designedit.io import versions  # the reader's module, like place()

    versions.check(scene, lambda path: place(scene, path))


def schedule_steps(x: Lowering) -> tuple[sched.ScheduleInput, sched.Scheduled]:
    """The schedule stage: what the schedule depends on, and the branches and steps it gives."""
    masks = x.masks
    occluded = [l for l in x.layers if l.occluder_frame is not None]
    given = sched.ScheduleInput(
        steps=x.opts.steps,
        timesteps=ddim_timesteps(x.opts.steps),
        windows=Windows.for_steps(x.opts.steps),
        layers=[sched.LayerSlot(l.id, N.layer_branch(l.index), x.image_of[l.id], N.layer_latent(l.id), l.dx, l.dy) for l in x.layers],
        has_refine=N.REFINE_LATENT in masks,
        remove_empty=not masks[N.REMOVE_LATENT].data.any(),
        occlusion=bool(occluded),
        occlude_empty=bool(occluded) and not masks[N.OCCLUDE_LATENT].data.any(),
        unchanged=_changes_nothing(x),
    )
    return given, (sched.reference(given) if x.opts.schedule == "reference" else sched.fast(given))


def _changes_nothing(x: Lowering) -> bool:
    """No layer, and no pixel that may change (the edit region covers removals, refines' removals,
    pan/zoom/outpaint holes): paste-back would give the source back exactly."""
    masks = x.masks
    if x.layers or masks[N.EDIT_CANVAS].data.any() or masks[N.REMOVE_LATENT].data.any():
        return False
    return N.REFINE_LATENT not in masks or not masks[N.REFINE_LATENT].data.any()
