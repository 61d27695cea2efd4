"""Compile time of a generated 50-layer scene (target: < 100 ms on the 2-core dev machine).

    .venv/bin/python bench/compile_time.py [--layers 50] [--size 1024x768] [--repeat 7]

The scene: a drawn poster, one ellipse or polygon mask per layer; every third
layer a copy, every fifth resized, every seventh rotated, every eleventh
flipped; all moved. Prints the median and best wall time per schedule.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from designedit.model import scene as m
from designedit.compiler import compile_scene


def make_scene(folder: Path, n: int, width: int, height: int) -> m.Scene:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width]
    pixels = np.dstack([(xx * 255 // width), (yy * 255 // height), np.full_like(xx, 128)]).astype(np.uint8)
    Image.fromarray(pixels).save(folder / "poster.png")
    masks, layers = [], []
    for i in range(n):
        cx, cy = rng.integers(60, width - 60), rng.integers(60, height - 60)
        r = int(rng.integers(10, 40))
        if i % 4 == 3:
            shape = m.Polygon(points=[(int(cx - r), int(cy + r)), (int(cx), int(cy - r)), (int(cx + r), int(cy + r))])
        else:
            shape = m.Ellipse(cx=int(cx), cy=int(cy), rx=r, ry=int(r * 0.8))
        masks.append(m.Mask(id=f"m{i}", shapes=[shape]))
        ts: list = []
        if i % 5 == 0:
            ts.append(m.Resize(scale=0.8))
        if i % 7 == 0:
            ts.append(m.Rotate(degrees=15))
        if i % 11 == 0:
            ts.append(m.Flip(axis="horizontal"))
        ts.append(m.Move(dx=int(rng.integers(-80, 80)), dy=int(rng.integers(-60, 60))))
        layers.append(m.Layer(id=f"l{i}", image="poster", mask=f"m{i}", keep=(i % 3 == 0), transforms=ts))
    scene = m.Scene(
        version="1.0",
        images=[m.Image(id="poster", src="poster.png")],
        masks=masks,
        background=m.Background(image="poster"),
        layers=layers,
    )
    return scene.with_origin(m.Origin(None, folder, folder))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=50)
    ap.add_argument("--size", default="1024x768")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        scene = make_scene(Path(tmp), args.layers, width, height)
        for schedule in ("fast", "reference"):
            compile_scene(scene, schedule=schedule)  # warm imports and the file-hash cache
            times, cpu = [], []
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                plan = compile_scene(scene, schedule=schedule)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            # CPU time too: on a shared machine the wall time includes waiting for a core
            print(
                f"{schedule:9} {args.layers} layers {width}x{height}: wall median {statistics.median(times) * 1000:.1f} ms, "
                f"best {min(times) * 1000:.1f} ms; CPU median {statistics.median(cpu) * 1000:.1f} ms; "
                f"{len(plan.images)} images, cost {plan.cost.total}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
