"""Take the README's picture of `dedit studio` (docs/studio.png): the move-sun example, served by a real
studio with the preview renderer, in Debian's chromium (headless), the sun selected with its overlays.

    .venv/bin/python docs/studio_screenshot.py          # writes docs/studio.png
"""

from __future__ import annotations

import io
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
OUT = ROOT / "docs" / "studio.png"


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "examples"
        shutil.copytree(ROOT / "examples", folder, ignore=shutil.ignore_patterns("out"))
        proc = subprocess.Popen([sys.executable, "-m", "designedit", "studio", "move-sun.dedit", "--renderer", "preview"],
                                cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        threading.Thread(target=lambda: [lines.append(l) for l in proc.stdout], daemon=True).start()
        try:
            deadline = time.monotonic() + 120
            url = None
            while url is None and time.monotonic() < deadline:
                url = next((m.group(1) for l in lines if (m := re.search(r"studio: (http://\S+)", l))), None)
                time.sleep(0.05)
            if url is None:
                raise SystemExit("the studio did not start:\n" + "".join(lines))
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
                page = browser.new_page(viewport={"width": 1180, "height": 640})
                page.goto(url)
                page.wait_for_function("window.studio && window.studio.plan >= 1", timeout=120000)
                page.wait_for_function("document.getElementById('plan').complete", timeout=120000)
                layer = page.evaluate("window.studio.overlays.layers[0]")
                box = page.locator("#overlay").bounding_box()
                w, h = page.evaluate("window.studio.overlays.canvas")
                page.mouse.click(box["x"] + layer["centre"][0] * box["width"] / w,
                                 box["y"] + layer["centre"][1] * box["height"] / h)  # select: handle and tools
                page.check("#show-edit")
                shot = page.screenshot()
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    picture = Image.open(io.BytesIO(shot)).convert("RGB")
    picture = picture.quantize(colors=128, method=Image.Quantize.MEDIANCUT)  # small enough to keep in git
    picture.save(OUT, optimize=True)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
