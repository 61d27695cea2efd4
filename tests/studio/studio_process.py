"""A real `dedit studio` subprocess on a free port, for the HTTP, browser and SDXL tests, and the scene they use."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import httpx
import pytest

import render_fixtures as fx

WAIT = 300.0  # a guard against a hang on a loaded 2-core machine, not a speed limit
MS = int(WAIT * 1000)  # the same, for Playwright
CHROMIUM = "/usr/bin/chromium"  # Debian's; .ci/run installs it (apt-get install chromium)
VIEWPORT = {"width": 1000, "height": 760}  # the 512-px picture is shown wider: screen and canvas pixels differ

# the ball on the test poster, moved; comments and layout that a gesture must keep
SCENE = """<?xml version="1.0" encoding="UTF-8"?>
<!-- the studio test scene: keep this comment -->
<dedit version="1.0">
  <image id="p" src="poster.png"/>
  <mask id="ball" src="ball-mask.png"/>
  <mask id="stamp"><rect x="10" y="10" width="40" height="24"/></mask>
  <background image="p">
    <remove mask="stamp"/>
  </background>
  <layer id="ball" image="p" mask="ball">
    <move dx="96"   dy="0"/>  <!-- spacing kept -->
  </layer>
  <output path="out/poster.png"/>
</dedit>
"""


def write_scene(folder: Path, text: str = SCENE) -> Path:
    fx.write_poster(folder)
    path = folder / "scene.dedit"
    path.write_text(text, encoding="utf-8")
    return path


class Studio:
    """`dedit studio SCENE ...` with its output lines collected; `url` is the printed address (with token)."""

    def __init__(self, scene: Path, *args: str, env: Optional[dict] = None) -> None:
        self.scene = scene
        cwd = scene.parent
        full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(cwd / "hf-empty"),
                    "HF_HUB_CACHE": str(cwd / "hf-empty" / "hub"), "PYTHONUNBUFFERED": "1", **(env or {})}
        full_env.pop("DEDIT_MODEL", None)
        self.p = subprocess.Popen(
            [sys.executable, "-c", "import sys; from designedit.cli import main; sys.exit(main())", "studio",
             str(scene), *args],
            cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        found = self.wait_for(lambda: next((m for line in self.lines if (m := re.search(r"studio: (http://\S+)", line))), None),
                              "the studio's address")
        self.url = found.group(1)
        self.base, _, self.token = self.url.partition("/?token=")

    def _read(self) -> None:
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate: Callable, what: str):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.p.poll() is not None:
                time.sleep(0.2)
                pytest.fail(f"the studio exited ({self.p.returncode}) while waiting for {what}:\n" + "\n".join(self.lines))
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}:\n" + "\n".join(self.lines))

    def client(self, token: Optional[str] = "own", **kwargs) -> httpx.Client:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {self.token if token == 'own' else token}"
        return httpx.Client(base_url=self.base, headers=headers, timeout=WAIT, **kwargs)

    def state(self) -> dict:
        with self.client() as c:
            return c.get("/api/state").json()

    def wait_state(self, predicate: Callable[[dict], bool], what: str) -> dict:
        def check() -> Optional[dict]:
            state = self.state()
            return state if predicate(state) else None

        return self.wait_for(check, what)

    def stop(self, sig=signal.SIGINT) -> int:
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(timeout=WAIT)
        finally:
            if self.p.poll() is None:
                self.p.kill()


def picture_number(state: dict) -> int:
    return (state.get("picture") or {}).get("n", 0)
