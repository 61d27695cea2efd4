"""A gesture on the page, written into the scene file as the smallest textual change (designedit.io.patch):

- move:   the layer's last `move` adjusted by (dx, dy) canvas pixels, rounded to whole pixels (one is added
          when it has none);
- resize: one `resize scale=` added (it acts about the layer's centroid where it lands);
- flip:   one `flip axis=` added.

The file is read, patched and written back only if it still holds what was read (an editor's save in
between wins; the gesture is refused and the page shows the file's new state). Nothing else is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from designedit.errors import ArgumentError, GestureRefused, SceneError

SCALE_DIGITS = 3  # a resize handle's ratio, as written


@dataclass(frozen=True)
class Change:
    written: bool
    summary: str  # one sentence for the page


def apply_gesture(path: Path, kind: str, layer: str, dx: float = 0.0, dy: float = 0.0,
                  scale: Optional[float] = None, axis: str = "horizontal") -> Change:
    from designedit.io import patch
    from designedit.io.scene_file import read_scene_text, write_if_unchanged

    name = path.name
    try:
        text = read_scene_text(path)
        if kind == "move":
            ix, iy = round(dx), round(dy)
            if ix == 0 and iy == 0:
                return Change(False, "a move of less than half a pixel changes nothing")
            new = patch.move_layer(text, None, layer, ix, iy, source=name)
            summary = f"moved {layer} by {ix}, {iy} px"
        elif kind == "resize":
            ratio = round(float(scale), SCALE_DIGITS) if scale is not None else 0.0
            if ratio <= 0:
                raise GestureRefused(f"a resize by {scale} cannot be written; the scale must be above 0.", 422)
            if ratio == 1:
                return Change(False, "a resize by 1 changes nothing")
            new = patch.add_transform(text, None, layer, "resize", {"scale": ratio}, source=name)
            summary = f"resized {layer} by {ratio:g}"
        elif kind == "flip":
            new = patch.add_transform(text, None, layer, "flip", {"axis": axis}, source=name)
            summary = f"flipped {layer} ({axis})"
        else:
            raise GestureRefused(f"{kind!r} is not a gesture the studio writes.", 422)
    except SceneError as exc:
        first = exc.problems[0] if exc.problems else None
        if first is not None and first.message.startswith("no layer"):
            raise GestureRefused(f"{name} has {first.message}; nothing was written.", 404) from None
        # a half-typed edit in an editor, or a change the format refuses (a move past the limits)
        raise GestureRefused(f"nothing was written: {first or exc}.", 409) from None
    except ArgumentError as exc:
        raise GestureRefused(f"nothing was written: {exc}", 422) from None
    if not write_if_unchanged(path, text, new):
        raise GestureRefused(f"{name} changed while the gesture was written; nothing was written.")
    return Change(True, summary)
