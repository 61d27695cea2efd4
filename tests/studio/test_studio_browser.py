"""The studio page in a real browser (Debian's chromium, driven by Playwright) against a real studio process
with the preview renderer: the render is shown, a drag becomes the file's move and a new picture, an invalid
save shows its located errors with the last picture kept, the token is required."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
from PIL import Image

import render_fixtures as fx
from studio_process import MS, SCENE, VIEWPORT


def shown_picture(page) -> np.ndarray:
    """The pixels the page's <img> holds (drawn into a canvas at its natural size)."""
    data_url = page.evaluate("""() => {
        const img = document.getElementById('picture');
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        c.getContext('2d').drawImage(img, 0, 0);
        return c.toDataURL('image/png');
    }""")
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def move_of(text: str) -> tuple[int, int]:
    found = re.search(r'<move dx="(-?\d+)"\s+dy="(-?\d+)"/>', text)
    assert found, text
    return int(found.group(1)), int(found.group(2))


def to_screen(page, canvas_xy) -> tuple[float, float, float, float]:
    """Screen position of a canvas point, and the screen size of the shown picture."""
    box = page.locator("#overlay").bounding_box()
    return (box["x"] + canvas_xy[0] * box["width"] / fx.W, box["y"] + canvas_xy[1] * box["height"] / fx.H,
            box["width"], box["height"])


def test_the_page_shows_the_render_and_its_overlays(page, studio, scene, tmp_path):
    assert page.evaluate("document.getElementById('picture').naturalWidth") == fx.W
    on_disk = np.asarray(Image.open(scene.parent / "out" / "poster.png").convert("RGB"))
    assert np.array_equal(shown_picture(page), on_disk)
    assert "UNet evaluations" in page.inner_text("#status") and "(preview)" in page.inner_text("#status")
    # the overlays: a removal region over the stamp, the ball's outline where cut and where it lands
    assert page.locator("#g-remove path").count() == 1 and page.locator("#g-cut path").count() == 1
    assert page.eval_on_selector("#plan", "img => img.complete && img.naturalWidth > 0")
    shot = tmp_path / "studio.png"
    page.screenshot(path=str(shot))
    assert Image.open(shot).size == (VIEWPORT["width"], VIEWPORT["height"])


def test_an_invalid_save_shows_its_located_error_and_keeps_the_last_picture(page, studio, scene):
    kept = shown_picture(page)
    scene.write_text(SCENE.replace('mask="ball">', 'mask="nothing">'), encoding="utf-8")
    page.wait_for_selector("#errors:not([hidden])", timeout=MS)
    errors = page.inner_text("#error-list")
    assert re.search(r"scene\.dedit:10(:\d+)?: .*nothing", errors), errors
    assert page.get_attribute("#picture", "data-n") == "1"
    assert np.array_equal(shown_picture(page), kept)

    scene.write_text(SCENE.replace('dx="96"', 'dx="80"'), encoding="utf-8")  # fixed: the errors go, a picture comes
    page.wait_for_selector('#picture[data-n="2"]', timeout=MS)
    assert page.locator("#errors").is_hidden()


def test_without_the_token_the_page_is_refused(browser, idle_studio):
    context = browser.new_context()
    try:
        answer = context.new_page().goto(idle_studio.base + "/")
        assert answer.status == 403
    finally:
        context.close()


def test_before_after_overlay_switches_and_warnings(page, studio, scene):
    after = shown_picture(page)
    page.click("#before")  # the background picture instead of the render
    page.wait_for_selector('#picture[data-showing="before"]', timeout=MS)
    page.wait_for_function("document.getElementById('picture').complete", timeout=MS)
    assert np.array_equal(shown_picture(page), np.asarray(Image.open(scene.parent / "poster.png").convert("RGB")))
    page.click("#before")
    page.wait_for_function("document.getElementById('picture').complete", timeout=MS)
    assert np.array_equal(shown_picture(page), after)

    assert page.locator("#g-cut path").is_visible()
    page.uncheck("#show-cut")
    assert page.locator("#g-cut path").is_hidden() and page.locator("#g-landed path").is_visible()

    assert page.locator("#warnings").is_hidden()
    scene.write_text(SCENE.replace('dx="96"', 'dx="2000"'), encoding="utf-8")  # a save that compiles, with a warning
    page.wait_for_selector("#warnings:not([hidden])", timeout=MS)
    assert "entirely outside the 512x384 canvas" in page.inner_text("#warning-list")
