"""A plan as a few lines of text (`dedit plan`): images, branches, windows, layers, masks, cost."""

from __future__ import annotations

from pathlib import Path

from designedit.plan import names
from designedit.plan.image_ops import LoadOp
from designedit.plan.ir import Plan, PlanImage
from designedit.plan.ops import BlendOp, FuseOp, ProximalOp


def _runs(steps: list[int]) -> str:
    if not steps:
        return "none"
    parts, start, prev = [], steps[0], steps[0]
    for s in steps[1:] + [None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(f"{start}" if start == prev else f"{start}..{prev}")
        if s is not None:
            start = prev = s
    return ", ".join(parts)


def _recipe(image: PlanImage) -> str:
    def step(op) -> str:
        match op:
            case LoadOp(src=src, x=x, y=y):
                return f"load {Path(src).name}@({x},{y})"
            case _:
                return op.kind

    return " + ".join(step(o) for o in image.ops[1:])


def summary(plan: Plan, name: str = "") -> str:
    inverted = plan.inverted_images()
    lines = [
        f"plan for {name}: {plan.schedule} schedule, {plan.steps} steps, guidance {plan.guidance_scale:g}, seed {plan.seed}",
        f"canvas {plan.canvas.width}x{plan.canvas.height} -> render {plan.render.width}x{plan.render.height} "
        f"(latent {plan.latent.width}x{plan.latent.height}, {plan.latent_scale} px per cell)",
        f"images to invert ({len(inverted)}):",
    ]
    for im in inverted:
        lines.append(f"  {im.id}: {_recipe(im)}  [key {im.key[:12]}]")
    lines.append("branches:")
    for b in plan.branches:
        evals = [(st.index, e) for st in plan.plan_steps for e in st.evals if e.branch == b.id]
        groups: dict[str, list[int]] = {}
        for s, e in evals:
            what = "+".join(e.halves) + (f" keyed by {e.keymask}" if e.keymask else "")
            groups.setdefault(what, []).append(s)
        desc = "; ".join(f"{what} at {_runs(steps)}" for what, steps in groups.items())
        fused = plan.steps_with(FuseOp, b.id)
        if fused:  # a canvas the fusion rebuilds (with occlusion every step through the fusion step)
            desc = (desc + "; " if desc else "never evaluated: ") + f"rebuilt by the fusion after {_runs(fused)}"
        elif not desc:
            desc = "never evaluated (read from its inversion trajectory)"
        if b.role == "occlusion":
            kept = plan.steps_with(BlendOp, b.id)
            if kept:
                desc += f"; outside its mask taken from the canvas after {_runs(kept)} (Eq. 5)"
        extra = f" layer {b.layer}" if b.layer else ""
        lines.append(f"  {b.id:<3} {b.role:<9} image {b.image}{extra}: {desc}")
    blends = plan.steps_with(BlendOp, names.REMOVAL)
    fusions = plan.steps_with(FuseOp)
    prox = plan.steps_with(ProximalOp)
    lines.append(f"windows: Eq.2 blends after steps {_runs(blends)}; fusion after {_runs(fusions)}; proximal guidance at {_runs(prox)}")
    if plan.layers:
        lines.append("layers (paste order):")
        for l in plan.layers:
            lines.append(
                f"  {l.id}: image {l.image}, move ({l.dx_px:g}, {l.dy_px:g}) px -> ({l.dx}, {l.dy}) cells = "
                f"({l.applied_px[0]:.2f}, {l.applied_px[1]:.2f}) px, rounding ({l.rounding_px[0]:.2f}, {l.rounding_px[1]:.2f}) px"
                + (f", occluder {l.occluder}" if l.occluder else "")
            )
    areas = ", ".join(f"{n} {int((m.data > 0).sum())}" for n, m in sorted(plan.masks.items()) if names.is_latent(n))
    lines.append(f"latent masks (cells set): {areas}")
    if plan.output_is_background:
        lines.append(f"output: {plan.output}, the background picture itself ({_recipe(plan.image(plan.output))}); "
                     "nothing is inverted, denoised or decoded")
    else:
        lines.append(f"output: {plan.output}")
    c = plan.cost
    lines.append(f"cost (UNet sample-evaluations): inversion {c.inversion} + denoise {c.denoise} = {c.total}; cacheable: {', '.join(c.cacheable) or 'none'}")
    if plan.notes:
        lines.append("notes:")
        lines += [f"  - {n}" for n in plan.notes]
    if plan.warnings:
        lines.append("warnings:")
        lines += [f"  - {w}" for w in plan.warnings]
    return "\n".join(lines) + "\n"
