"""Fixtures of the studio tests: the scene in a temporary folder, and a real studio on it (preview renderer)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # studio_process, beside this file

from studio_process import CHROMIUM, MS, VIEWPORT, Studio, picture_number, write_scene  # noqa: E402


@pytest.fixture()
def scene(tmp_path: Path) -> Path:
    return write_scene(tmp_path)


@pytest.fixture()
def studio(scene: Path):
    running = Studio(scene, "--renderer", "preview")
    running.wait_state(lambda s: picture_number(s) >= 1 and s.get("overlays"), "the first render and its overlays")
    yield running
    status = running.stop()
    assert status == 0, "\n".join(running.lines)
    assert running.lines[-1] == "stopped the studio.", "\n".join(running.lines)


@pytest.fixture(scope="module")
def idle_studio(tmp_path_factory):
    """One studio for a module's tests that write nothing (the scene is never changed through it)."""
    folder = tmp_path_factory.mktemp("idle-studio")
    running = Studio(write_scene(folder), "--renderer", "preview")
    running.wait_state(lambda s: picture_number(s) >= 1 and s.get("overlays"), "the first render and its overlays")
    yield running
    assert running.stop() == 0, "\n".join(running.lines)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, studio):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(MS)  # every wait, navigation included, gets the loaded machine's guard, not 30 s
    page.set_default_navigation_timeout(MS)
    page.goto(studio.url)
    page.wait_for_selector('#picture[data-n="1"]', timeout=MS)
    page.wait_for_function("document.querySelectorAll('#g-hit path').length === 1", timeout=MS)
    yield page
    context.close()
