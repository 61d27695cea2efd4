"""dedit masks SCENE --model M -o DIR: derive the scene's attention masks with a model and write them.

Each mask that has an attention shape is written as DIR/<mask id>.png at the size of the picture it selects
from (its picture, if it has one, and its attention shapes, unioned and thresholded: white is selected), to
inspect or hand-edit; then the scene is printed with those masks reading the PNGs instead. The maps are kept
in the cache, where the next render (and the preview) finds them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from designedit.cli import hold_signals
from designedit.cli.render_cmd import add_renderer_options, note_ignored_options, options_from_args
from designedit.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("masks", help="derive a scene's attention masks with a model and write them as PNGs",
                              description=__doc__)
    p.add_argument("file", type=Path, metavar="SCENE", help="the scene, a .dedit file (XML or JSON)")
    p.add_argument("-o", "--output", type=Path, metavar="DIR", required=True, help="folder for the mask PNGs (created if missing)")
    add_renderer_options(p)  # render's model options: --model, --steps, --cache-dir, --device, ...
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from designedit.cli.notes import notes_on_stderr, stderr_line
    from designedit.io import detect_form, dump
    from designedit.masks.derived import attention_uses
    from designedit.rendering.atomic import before_commit
    from designedit.rendering.outputs import check_destination, check_not_an_input
    from designedit.rendering.session import RenderSession, load_scene, scene_files

    scene = load_scene(args.file, root=args.root)
    uses = attention_uses(scene)
    if not uses:
        raise UsageError(f"{args.file} applies no mask with an attention shape: there is nothing to derive.")
    check_destination(args.output, folder=True)
    inputs = scene_files(scene)
    # one picture per mask: the first image it selects from (another is noted: one src cannot serve two)
    targets: dict[str, str] = {}
    for use in uses:
        if targets.setdefault(use.mask, use.image) != use.image:
            print(f"note: mask {use.mask!r} selects from images {targets[use.mask]!r} and {use.image!r}; "
                  f"the PNG is for {targets[use.mask]!r}", file=sys.stderr)
    for mask_id in targets:  # never one of the scene's own files
        check_not_an_input(args.output / f"{mask_id}.png", inputs)
    with notes_on_stderr():
        session = RenderSession(args.renderer, options_from_args(args), announce=stderr_line)
        note_ignored_options(args, session)
        derived = session.derive(scene, args.steps)
    assert derived is not None  # the scene has attention masks
    written: dict[str, Path] = {}
    with before_commit(hold_signals):  # once the first PNG is in place, a signal waits for the rest
        for mask_id, image in targets.items():
            path = args.output / f"{mask_id}.png"
            _write_mask(path, _mask_picture(scene, mask_id, image, derived))
            written[mask_id] = path
            print(f"wrote {path}", file=sys.stderr)
    rewritten = _using_pictures(scene, written)
    text = args.file.read_bytes().decode("utf-8", "replace")
    sys.stdout.write(dump(rewritten, detect_form(text)) + "\n")
    return 0


def _mask_picture(scene, mask_id: str, image: str, derived):
    """The mask's picture (if any) and its attention shapes, unioned, at the size of `image` (0/255)."""
    import numpy as np

    from designedit.checks.paths import resolve_reference
    from designedit.imaging.pictures import load_mask_values, picture_size
    from designedit.masks.arrays import binary
    from designedit.masks.resolve import scale_mask_picture
    from designedit.model.scene import Attention

    origin = scene.origin
    size = picture_size(resolve_reference(origin, scene.image(image).src))
    mask = scene.mask(mask_id)
    out = np.zeros((size[1], size[0]), np.uint8)
    if mask.src is not None:
        values = load_mask_values(resolve_reference(origin, mask.src))
        if values.shape[::-1] != size:
            values = scale_mask_picture(values, size)
        np.maximum(out, binary(values), out=out)
    for shape in mask.shapes:
        if isinstance(shape, Attention):
            np.maximum(out, derived.selection(image, shape.word, float(shape.threshold), size), out=out)
    return out


def _write_mask(path: Path, values) -> None:
    import io

    from PIL import Image as PILImage

    from designedit.rendering.atomic import atomic_write_bytes

    buffer = io.BytesIO()
    PILImage.fromarray(values, "L").save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())


def _using_pictures(scene, written: dict[str, Path]):
    """The scene with each written mask reading its PNG (its attention shapes dropped, the rest kept)."""
    from designedit.model.scene import Attention

    base = scene.origin.base
    masks = []
    for mask in scene.masks:
        if mask.id in written:
            src = Path(os.path.relpath(written[mask.id].resolve(), base.resolve())).as_posix()
            mask = mask.model_copy(update={"src": src, "shapes": [s for s in mask.shapes if not isinstance(s, Attention)]})
        masks.append(mask)
    return scene.model_copy(update={"masks": masks})
