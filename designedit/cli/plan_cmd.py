"""Show what a scene will do, before paying for it.

Prints the branches, windows, fusion step, layer offsets and rounding, and the
costs; --json prints the plan itself; --svg OUT writes a timeline picture.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from designedit.cli import file_name_type, hold_signals
from designedit.cli.render_cmd import steps_arg


_svg_path = file_name_type(".svg", "an .svg file name", "the timeline is an SVG picture")


def _native_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of pixels") from None
    if not 64 <= value <= 16384:
        raise argparse.ArgumentTypeError(f"{text} is not a side between 64 and 16384 pixels")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("plan", help="compile a scene and show its plan", description=__doc__)
    p.add_argument("file", type=Path, metavar="FILE", help="the scene, a .dedit file (XML or JSON)")
    p.add_argument("--schedule", choices=["fast", "reference"], help="fast, or reference for the authors' computation (default: the scene's, else fast)")
    p.add_argument("--steps", type=steps_arg, metavar="N", help="denoising steps (default: the scene's, else 50)")
    p.add_argument("--native-size", type=_native_size, default=1024, metavar="PX",
                   help="the model's native side in pixels (SDXL: 1024, the default); renders are about its square")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--svg", type=_svg_path, metavar="OUT.svg", help="write a timeline picture of the plan (SVG)")
    p.add_argument("--root", type=Path, metavar="DIR", help="folder file references may not leave (default: the document's folder)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from designedit.compiler import compile_scene
    from designedit.io import load

    scene = load(args.file, root=args.root)
    if args.svg is not None:  # before any work: never one of the scene's own files, a folder that can be written
        from designedit.rendering.outputs import check_destination
        from designedit.rendering.session import scene_files

        check_destination(args.svg, inputs=scene_files(scene))
    plan = compile_scene(scene, schedule=args.schedule, steps=args.steps, native_size=args.native_size)
    if args.svg is not None:
        from designedit.rendering.atomic import atomic_write_bytes, before_commit
        from designedit.plan.svg import plan_svg

        with before_commit(hold_signals):  # once the timeline is in place, a signal cannot undo it
            atomic_write_bytes(args.svg, plan_svg(plan, title=args.file.name).encode("utf-8"))
    if args.json:  # picture paths relative to the scene's folder: Plan.from_json(text, base=that folder)
        sys.stdout.write(plan.to_json(relative_to=args.file.resolve().parent) + "\n")
    else:
        sys.stdout.write(summary(plan, args.file.name))
        if args.svg is not None:
            sys.stdout.write(f"timeline written to {args.svg}\n")
    return 0


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


def _recipe(image) -> str:
    return " + ".join(o.op if o.op != "load" else f"load {Path(o.args['src']).name}@({o.args['x']},{o.args['y']})" for o in image.ops[1:])


def summary(plan, name: str = "") -> str:
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
        fused = [st.index for st in plan.plan_steps if any(o.kind == "fuse" and o.target == b.id for o in st.ops)]
        if fused:  # a canvas the fusion rebuilds (with occlusion every step through the fusion step)
            desc = (desc + "; " if desc else "never evaluated: ") + f"rebuilt by the fusion after {_runs(fused)}"
        elif not desc:
            desc = "never evaluated (read from its inversion trajectory)"
        if b.role == "occlusion":
            kept = [st.index for st in plan.plan_steps if any(o.kind == "blend" and o.target == b.id for o in st.ops)]
            if kept:
                desc += f"; outside its mask taken from the canvas after {_runs(kept)} (Eq. 5)"
        extra = f" layer {b.layer}" if b.layer else ""
        lines.append(f"  {b.id:<3} {b.role:<9} image {b.image}{extra}: {desc}")
    blends = [st.index for st in plan.plan_steps if any(o.kind == "blend" and o.target == "L0" for o in st.ops)]
    fusions = [st.index for st in plan.plan_steps if any(o.kind == "fuse" for o in st.ops)]
    prox = [st.index for st in plan.plan_steps if any(o.kind == "proximal" for o in st.ops)]
    lines.append(f"windows: Eq.2 blends after steps {_runs(blends)}; fusion after {_runs(fusions)}; proximal guidance at {_runs(prox)}")
    if plan.layers:
        lines.append("layers (paste order):")
        for l in plan.layers:
            lines.append(
                f"  {l.id}: image {l.image}, move ({l.dx_px:g}, {l.dy_px:g}) px -> ({l.dx}, {l.dy}) cells = "
                f"({l.applied_px[0]:.2f}, {l.applied_px[1]:.2f}) px, rounding ({l.rounding_px[0]:.2f}, {l.rounding_px[1]:.2f}) px"
                + (f", occluder {l.occluder}" if l.occluder else "")
            )
    areas = ", ".join(f"{n} {int((m.data > 0).sum())}" for n, m in sorted(plan.masks.items()) if n.endswith("@latent"))
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
