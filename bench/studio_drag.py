"""`dedit studio` drag latency: from releasing a dragged layer to its new picture shown on the page.

A 1024x1024 scene (a ball moved, a stamp removed) served by a real `dedit studio` process with the preview
renderer; Debian's chromium (Playwright, headless) drags the ball left and right by 40 screen pixels, again
and again. Each latency is measured inside the page, on one clock: `pointerup` (the page's handler) to the
new picture swapped into the <img> (its `load`), so it covers the gesture's request, the file rewrite, the
render, the event stream and the picture's transfer and decoding. Target (issue 14): < 0.5 s.

    .venv/bin/python bench/studio_drag.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SIZE = 1024
CHROMIUM = "/usr/bin/chromium"
SCENE = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="1.0">
  <prompt>a ball and a box on a gradient</prompt>
  <image id="poster" src="poster.png"/>
  <mask id="ball"><ellipse cx="300" cy="400" rx="122" ry="122"/></mask>
  <mask id="stamp"><rect x="16" y="16" width="88" height="58"/></mask>
  <background image="poster">
    <remove mask="stamp"/>
  </background>
  <layer id="ball" image="poster" mask="ball">
    <move dx="200" dy="100"/>
  </layer>
  <output path="out/drag.png"/>
</dedit>
"""


def make_scene(folder: Path) -> Path:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    img = np.dstack([40 + 80 * yy / SIZE, 80 + 60 * yy / SIZE, 200 + 40 * xx / SIZE]).astype(np.uint8)
    cv2.circle(img, (300, 400), 120, (220, 30, 30), -1)
    img[300:540, 600:840] = (30, 180, 60)
    img[20:70, 20:100] = 0
    Image.fromarray(img).save(folder / "poster.png")
    path = folder / "drag.dedit"
    path.write_text(SCENE, encoding="utf-8")
    return path


def start_studio(scene: Path) -> tuple[subprocess.Popen, str, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "designedit", "studio", str(scene), "--renderer", "preview"],
                            cwd=scene.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    threading.Thread(target=lambda: [lines.append(l.rstrip()) for l in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for line in lines:
            found = re.search(r"studio: (http://\S+)", line)
            if found:
                return proc, found.group(1), lines
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the studio did not print its address:\n" + "\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        scene = make_scene(Path(tmp))
        proc, url, lines = start_studio(scene)
        latencies: list[float] = []
        renders: list[float] = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.wait_for_function("window.studio && window.studio.shown >= 1 && window.studio.plan >= 1", timeout=120000)
                for run in range(args.runs):
                    n = page.evaluate("window.studio.shown")
                    layer = page.evaluate("window.studio.overlays.layers[0]")
                    box = page.locator("#overlay").bounding_box()
                    x = box["x"] + layer["centre"][0] * box["width"] / SIZE
                    y = box["y"] + layer["centre"][1] * box["height"] / SIZE
                    step = 40 if run % 2 == 0 else -40
                    page.mouse.move(x, y)
                    page.mouse.down()
                    page.mouse.move(x + step / 2, y, steps=3)
                    page.mouse.move(x + step, y, steps=3)
                    page.mouse.up()
                    # the new picture, then its overlays (the next press hit-tests them)
                    page.wait_for_function(f"window.studio.shown > {n} && window.studio.plan > {n}", timeout=120000)
                    seconds = page.evaluate(f"(window.studio.shownAt[{n + 1}] - window.studio.released) / 1000")
                    latencies.append(seconds)
                    renders.append(page.evaluate("window.studio.state.status.seconds"))
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    latencies.sort()
    p90 = latencies[min(len(latencies) - 1, int(round(0.9 * (len(latencies) - 1))))]
    print(f"studio drag, {SIZE}x{SIZE}, preview renderer, {len(latencies)} drags (python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs):")
    print(f"  release -> new picture shown: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p90 {p90 * 1000:.0f} ms, best {latencies[0] * 1000:.0f} ms, worst {latencies[-1] * 1000:.0f} ms")
    print(f"  of which the render (load, compile, render, write): median {statistics.median(renders) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
