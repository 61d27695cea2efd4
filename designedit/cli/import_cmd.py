"""`dedit import`: a layered comp (PSD, OpenRaster) becomes a scene, or (`--onto`) the offsets of a re-saved
`dedit render --layers` stack update an existing scene (spec/import.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from designedit.cli import hold_signals


def run_import(args: argparse.Namespace) -> int:
    if args.onto is not None:
        return _run_onto(args)
    from designedit.importing import import_comp
    from designedit.rendering.session import Progress

    progress = Progress("dedit import: layers")  # on stderr, only when it takes over a second
    try:
        result = import_comp(args.comp, args.output, args.pictures, args.form, on_commit=hold_signals, progress=progress)
    finally:
        progress.close()
    for sentence in result.warnings:
        print(f"warning: {sentence}", file=sys.stderr)
    for placed in result.placed:
        print(f"  {placed.path}: {_said(placed)}")
    print(f"wrote {result.scene_path} and {len(result.written) - 1} pictures")
    return 0


def _said(placed) -> str:
    """What became of a layer, in a few words."""
    if placed.what in ("background", "remove", "refine"):
        return {"background": "the background picture", "remove": "removal mask", "refine": "refine mask"}[placed.what]
    if placed.what == "ignored":
        return "ignored"
    if placed.what == "artwork":
        return f"layer {placed.id}, new artwork at its place (not found in the background)"
    m = placed.match
    parts = []
    if m.scale != 1.0:
        parts.append(f"resized {m.scale:.4g}x")
    if m.flip:
        parts.append(f"flipped {m.flip}ly")
    dx, dy = placed.move
    parts.append(f"moved {dx:g},{dy:g}")
    kind = "copied" if placed.what == "copy" else "cut"
    return f"layer {placed.id}, found in the background (residual {m.residual:.1f}), {kind}, " + ", ".join(parts)


def _run_onto(args: argparse.Namespace) -> int:
    from designedit.importing.onto import import_onto

    if args.output is not None or args.pictures is not None or args.form is not None:
        from designedit.errors import UsageError

        raise UsageError("--onto updates SCENE in place: -o, --pictures and --form do not apply")
    notes: list[str] = []
    changed = import_onto(args.comp, args.onto, on_commit=hold_signals, notes=notes)
    for sentence in notes:
        print(f"warning: {sentence}", file=sys.stderr)
    for line in changed:
        print(f"  {line}")
    print(f"{args.onto}: {'updated' if changed else 'unchanged'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import",
        help="turn a layered comp (PSD, OpenRaster) into a scene",
        description="Read COMP (a PSD or OpenRaster file saved by a design program) and write a scene with the "
        "pictures it needs: the bottom layer (or one named 'background') is the background; layers named "
        "remove... and refine... are masks for a removal; a layer whose pixels are found in the background "
        "becomes that object moved, resized and flipped as in the comp (kept where its name says 'copy'); "
        "any other layer is new artwork at its place. With --onto, the layer offsets of a 'dedit render "
        "--layers' stack re-saved by a design program update SCENE in place instead (only the moved layers' "
        "moves change). See spec/import.md.",
    )
    p.add_argument("comp", type=Path, metavar="COMP", help="the .psd or .ora file (never written)")
    p.add_argument("-o", "--output", type=Path, metavar="SCENE",
                   help="the scene to write (default: COMP's name with .dedit, beside it)")
    p.add_argument("--pictures", type=Path, metavar="DIR",
                   help="where the pictures go, inside the scene's folder (default: SCENE-pictures beside it)")
    p.add_argument("--form", choices=["xml", "json"], help="the scene's form (default: xml, json for -o *.json)")
    p.add_argument("--onto", type=Path, metavar="SCENE",
                   help="update this scene from a re-saved 'dedit render --layers' stack (COMP) instead")
    p.set_defaults(func=run_import)
