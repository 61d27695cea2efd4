"""Pass: what compiles but is probably not what the author meant (plan warnings).

Nothing here refuses a scene: the format allows each case (spec/format.md 4),
and a design tool may write them on purpose. A warning is one sentence that
names the element and what will happen, printed by `dedit plan`, `render`
and `watch`.

- A layer whose object ends up entirely outside the canvas: it adds nothing
  (a cut still removes the object from the background).
- A removal whose mask selects nothing on the canvas (after grow, invert and
  the camera's moves): nothing is removed there; or only faint pixels, below
  half strength, which the fast schedule drops and the reference reads (its
  inpainting there is then undone by paste-back). (A layer's empty mask is an
  error instead: there is no object.)
"""

from __future__ import annotations

from typing import Optional, Sequence

from designedit import masks as M
from designedit.model.scene import Remove, Scene
from designedit.plan import Size
from designedit.compiler.ir import BackgroundIR, LayerIR


def lint(scene: Scene, layers: Sequence[LayerIR], canvas: Size, bg: Optional[BackgroundIR] = None) -> list[str]:
    return (_empty_removals(scene, bg) if bg is not None else []) + _off_canvas(layers, canvas)


def _empty_removals(scene: Scene, bg: BackgroundIR) -> list[str]:
    removes = [edit for edit in scene.background.edits if isinstance(edit, Remove)]
    out = []
    for edit, peak in zip(removes, bg.remove_peaks):
        if peak == 0:
            out.append(f"the background's remove of mask {edit.mask!r} selects nothing on the canvas: nothing is removed there")
        elif peak < 128:  # the reference reads grey values: faint pixels still key its latent mask
            out.append(f"the background's remove of mask {edit.mask!r} selects no pixel at half strength or more: the "
                       "reference schedule inpaints its faint pixels, and paste-back puts the source back over them")
    return out


def _off_canvas(layers: Sequence[LayerIR], canvas: Size) -> list[str]:
    out = []
    for l in layers:
        # what is drawn (the reference's grey mask pictures can reach farther with faint values)
        box = l.box_frame if l.canvas_frame is None else M.bbox(l.drawn_frame)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        dx, dy = l.applied_px
        if x1 + dx <= 0 or y1 + dy <= 0 or x0 + dx >= canvas.width or y0 + dy >= canvas.height:
            what = "its cut still removes the object from the background" if l.cuts else "it changes nothing"
            out.append(f"layer {l.id!r} ends up entirely outside the {canvas.width}x{canvas.height} canvas: {what}")
    return out
