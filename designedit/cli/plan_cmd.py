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
from designedit.cli.table import bounded


_svg_path = file_name_type(".svg", "an .svg file name", "the timeline is an SVG picture")


_native_size = bounded(int, 64, 16384, "{text!r} is not a whole number of pixels", "{text} is not a side between 64 and 16384 pixels")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("plan", help="compile a scene and show its plan", description=__doc__)
    p.add_argument("file", type=Path, metavar="FILE", help="the scene, a .dedit file (XML or JSON)")
    p.add_argument("--schedule", choices=["fast", "reference"], help="fast, or reference for the authors' computation (default: the scene's, else fast)")
    p.add_argument("--steps", type=steps_arg, metavar="N", help="denoising steps (default: the scene's, else 50)")
    p.add_argument("--native-size", type=_native_size, default=1024, metavar="PX",
                   help="the model's native side in pixels (default 1024); renders are about its square")
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
    from designedit.masks.derived import Derived, awaiting_notes

    # attention masks await a model: their whole picture stands in, and each is named below
    plan = compile_scene(scene, schedule=args.schedule, steps=args.steps, native_size=args.native_size,
                         derived=Derived(stand_in=True))
    for sentence in awaiting_notes(scene):
        print(f"note: {args.file}: {sentence}", file=sys.stderr)
    if args.svg is not None:
        from designedit.rendering.atomic import atomic_write_bytes, before_commit
        from designedit.plan.svg import plan_svg

        with before_commit(hold_signals):  # once the timeline is in place, a signal cannot undo it
            atomic_write_bytes(args.svg, plan_svg(plan, title=args.file.name).encode("utf-8"))
    if args.json:  # picture paths relative to the scene's folder: Plan.from_json(text, base=that folder)
        sys.stdout.write(plan.to_json(relative_to=args.file.resolve().parent) + "\n")
    else:
        from designedit.plan.summary import summary

        sys.stdout.write(summary(plan, args.file.name))
        if args.svg is not None:
            sys.stdout.write(f"timeline written to {args.svg}\n")
    return 0
