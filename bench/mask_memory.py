"""Peak memory and wall time of `dedit validate` and `dedit plan` on documents with many masks (issue 12, item 5).

    .venv/bin/python bench/mask_memory.py [--case NAME ...] [--schedule fast|reference]

Each case is a generated document (at most 4 MiB) over a generated background picture; each command runs in
its own process, whose peak resident memory (ru_maxrss from wait4) and wall time are printed. Targets: under
1 GB and under 2 s for `validate` of any document of at most 4 MiB.

Cases:
- chain100-40mp: 100 masks chained by `use` (each adds a small rect) on an 8000x5000 canvas, one removal;
- chain10000: 10,000 masks chained the same way on a 512x384 canvas;
- full-chain100-40mp: 100 chained masks that each cover the whole 40 MP canvas (cropping cannot help);
- fan-in1000-40mp: one mask that uses 1000 small masks, on 40 MP;
- removes1000-40mp: 1000 removals, each of its own small mask, on 40 MP;
- inverted20-40mp: 20 removals of inverted masks (each the whole canvas but a rect) on 40 MP;
- layers20-40mp, rotated20-40mp: 20 layers of small masks, moved (and rotated), on 40 MP: the plan holds a
  canvas-size mask per layer;
- large-layers30-40mp: 30 rotated copies of one mask selecting most of the 40 MP canvas;
- layers2000: 2000 small moved layers on 512x384 (what stays is the plan's size and the schedule's work).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

BIG = (8000, 5000)
SMALL = (512, 384)


def _rect(i: int, width: int, height: int) -> str:
    x, y = (37 * i) % (width - 40), (23 * i) % (height - 40)
    return f'<rect x="{x}" y="{y}" width="30" height="20"/>'


def _doc(masks: list[str], removes: list[str], layers: str = "") -> str:
    body = "\n".join(masks)
    edits = "".join(f'<remove mask="{r}"/>' for r in removes)
    return (
        '<dedit version="1.0">\n<image id="bg" src="bg.png"/>\n'
        f"{body}\n<background image=\"bg\">{edits}</background>\n{layers}</dedit>\n"
    )


def chain(n: int, size: tuple[int, int], full: bool = False) -> str:
    w, h = size
    shape = (lambda i: '<rect x="0" y="0" width="100%" height="100%"/>') if full else (lambda i: _rect(i, w, h))
    masks = [f'<mask id="m0">{shape(0)}</mask>']
    masks += [f'<mask id="m{i}"><use mask="m{i - 1}"/>{shape(i)}</mask>' for i in range(1, n)]
    return _doc(masks, [f"m{n - 1}"])


def fan_in(n: int, size: tuple[int, int]) -> str:
    masks = [f'<mask id="m{i}">{_rect(i, *size)}</mask>' for i in range(n)]
    masks.append('<mask id="all">' + "".join(f'<use mask="m{i}"/>' for i in range(n)) + "</mask>")
    return _doc(masks, ["all"])


def removes(n: int, size: tuple[int, int]) -> str:
    return _doc([f'<mask id="m{i}">{_rect(i, *size)}</mask>' for i in range(n)], [f"m{i}" for i in range(n)])


def inverted(n: int, size: tuple[int, int]) -> str:
    masks = [f'<mask id="m{i}" invert="true">{_rect(i, *size)}</mask>' for i in range(n)]
    return _doc(masks, [f"m{i}" for i in range(n)])


def layers(n: int, size: tuple[int, int], transform: str) -> str:
    masks = [f'<mask id="m{i}">{_rect(i, *size)}</mask>' for i in range(n)]
    body = "".join(f'<layer id="l{i}" image="bg" mask="m{i}">{transform}</layer>\n' for i in range(n))
    return _doc(masks, [], body)


def large_layers(n: int, size: tuple[int, int]) -> str:
    """n layers that each select most of the canvas (one mask), moved and rotated."""
    masks = ['<mask id="big"><rect x="5%" y="5%" width="90%" height="90%"/></mask>']
    body = "".join(f'<layer id="l{i}" image="bg" mask="big" keep="true"><rotate degrees="{i}"/><move dx="{i}" dy="0"/></layer>\n'
                   for i in range(n))
    return _doc(masks, [], body)


CASES: dict[str, tuple[tuple[int, int], Callable[[], str]]] = {
    "chain100-40mp": (BIG, lambda: chain(100, BIG)),
    "chain10000": (SMALL, lambda: chain(10_000, SMALL)),
    "full-chain100-40mp": (BIG, lambda: chain(100, BIG, full=True)),
    "fan-in1000-40mp": (BIG, lambda: fan_in(1000, BIG)),
    "removes1000-40mp": (BIG, lambda: removes(1000, BIG)),
    "inverted20-40mp": (BIG, lambda: inverted(20, BIG)),
    "layers20-40mp": (BIG, lambda: layers(20, BIG, '<move dx="40" dy="0"/>')),
    "rotated20-40mp": (BIG, lambda: layers(20, BIG, '<rotate degrees="10"/><move dx="40" dy="0"/>')),
    "large-layers30-40mp": (BIG, lambda: large_layers(30, BIG)),
    "layers2000": (SMALL, lambda: layers(2000, SMALL, '<move dx="40" dy="0"/>')),
}


def measure(argv: list[str], cwd: Path) -> tuple[int, float, float, str]:
    """(exit status, peak RSS in MB, wall seconds, last line of stderr) of one command in its own process."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    return proc.returncode, usage.ru_maxrss / 1024, wall, (lines[-1] if lines else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="run only these (repeatable)")
    parser.add_argument("--schedule", default="fast", choices=["fast", "reference"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made: set[tuple[int, int]] = set()
        print(f"{'case':22} {'doc KB':>7} {'command':9} {'status':>6} {'peak MB':>8} {'wall s':>7}")
        for name in args.case or list(CASES):
            size, make = CASES[name]
            if size not in made:  # a black background of that size (a 40 MP PNG of zeros is small on disk)
                Image.fromarray(np.zeros((size[1], size[0], 3), np.uint8)).save(folder / "bg.png")
                made = {size}
            doc = folder / f"{name}.dedit"
            doc.write_text(make(), encoding="utf-8")
            for command in (["validate"], ["plan", "--schedule", args.schedule]):
                status, peak, wall, last = measure([sys.executable, "-m", "designedit", *command, doc.name], folder)
                note = f"  ({last[:90]})" if status else ""
                print(f"{name:22} {doc.stat().st_size / 1024:7.1f} {command[0]:9} {status:6} {peak:8.0f} {wall:7.2f}{note}")


if __name__ == "__main__":
    main()
