"""How long a studio drag's text edit takes: io.patch.move_layer (read, edit, read back) and
io.scene_file.write_if_unchanged, on a small scene and on one with 256 layers (the format's limit), both forms.

    .venv/bin/python bench/patch_speed.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from designedit.io import dump, patch
from designedit.io.scene_file import read_scene_text, write_if_unchanged
from designedit.model import scene as m

ROOT = Path(__file__).resolve().parents[1]


def big_scene(layers: int) -> m.Scene:
    return m.Scene(
        version="1.0",
        images=[m.Image(id="poster", src="poster.png")],
        masks=[m.Mask(id="m", shapes=[m.Rect(x=1, y=1, width=5, height=5)])],
        background=m.Background(image="poster"),
        layers=[m.Layer(id=f"l{n}", image="poster", mask="m", transforms=[m.Resize(scale=0.5), m.Move(dx=n, dy=-n)])
                for n in range(layers)],
    )


def timed(call, repeat: int = 15) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    small = read_scene_text(ROOT / "examples" / "move-sun.dedit")
    cases = [("move-sun.dedit (example)", small, "sun")]
    for form in ("xml", "json"):
        cases.append((f"256 layers, {form} ({len(dump(big_scene(256), form)) // 1024} kB)", dump(big_scene(256), form), "l128"))
    for name, text, layer in cases:
        ms = timed(lambda: patch.move_layer(text, None, layer, 25, -3))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "scene.dedit"
            path.write_text(text, newline="")
            state = {"text": text}

            def drag_and_write() -> None:
                new = patch.move_layer(state["text"], None, layer, 25, -3)
                assert write_if_unchanged(path, state["text"], new)
                state["text"] = new

            write_ms = timed(drag_and_write)
        print(f"{name:34} move_layer median {ms:7.1f} ms; with write_if_unchanged {write_ms:7.1f} ms")


if __name__ == "__main__":
    main()
