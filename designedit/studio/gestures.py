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

from designedit.errors import DeditError, GestureRefused, SceneError

SCALE_DIGITS = 3  # a resize handle's ratio, as written


@dataclass(frozen=True)
class Change:
    written: bool
    summary: str  # one sentence for the page


def apply_gesture(path: Path, kind: str, layer: str, dx: float = 0.0, dy: float = 0.0,
                  scale: Optional[float] = None, axis: str = "horizontal") -> Change:
    from designedit.io import detect_form, patch

    try:
        with open(path, encoding="utf-8", newline="") as f:  # newline="": line endings kept as they are
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise GestureRefused(f"{path.name} cannot be read ({exc}); nothing was written.") from None
    form = detect_form(text)
    if form is None:
        raise GestureRefused(f"{path.name} is not an XML or JSON document just now; nothing was written.")
    try:
        if kind == "move":
            ix, iy = round(dx), round(dy)
            if ix == 0 and iy == 0:
                return Change(False, "a move of less than half a pixel changes nothing")
            new = patch.move_layer(text, form, layer, ix, iy)
            summary = f"moved {layer} by {ix}, {iy} px"
        elif kind == "resize":
            if scale is None:
                raise GestureRefused("a resize needs a scale.", 422)
            ratio = round(float(scale), SCALE_DIGITS)
            if ratio <= 0:
                raise GestureRefused(f"a resize by {scale} cannot be written; the scale must be above 0.", 422)
            if ratio == 1:
                return Change(False, "a resize by 1 changes nothing")
            new = patch.add_transform(text, form, layer, "resize", {"scale": f"{ratio:g}"})
            summary = f"resized {layer} by {ratio:g}"
        elif kind == "flip":
            new = patch.add_transform(text, form, layer, "flip", {"axis": axis})
            summary = f"flipped {layer} ({axis})"
        else:
            raise GestureRefused(f"{kind!r} is not a gesture the studio writes.", 422)
    except SceneError as exc:  # the document does not read as a scene just now (a half-typed edit)
        raise GestureRefused(f"{path.name} is not a valid scene just now, so nothing was written: "
                             f"{exc.problems[0] if exc.problems else exc}") from None
    except LookupError:
        raise GestureRefused(f"{path.name} has no layer {layer!r}; nothing was written.", 404) from None
    except DeditError:
        raise
    if not patch.write_if_unchanged(path, text, new):
        raise GestureRefused(f"{path.name} changed while the gesture was written; nothing was written.")
    return Change(True, summary)
