"""The studio page in a real browser (Debian's chromium, driven by Playwright) against a real studio process
with the preview renderer: the render is shown, a drag becomes the file's move and a new picture, an invalid
save shows its located errors with the last picture kept, the token is required."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import render_fixtures as fx
from studio_process import SCENE, WAIT, picture_number

CHROMIUM = "/usr/bin/chromium"  # .ci/run installs it (apt-get install chromium)
VIEWPORT = {"width": 1000, "height": 760}  # the 512-px picture is shown wider: screen and canvas pixels differ
MS = int(WAIT * 1000)


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
    page.goto(studio.url)
    page.wait_for_selector('#picture[data-n="1"]', timeout=MS)
    page.wait_for_function("document.querySelectorAll('#g-hit path').length === 1", timeout=MS)
    yield page
    context.close()


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


def test_dragging_the_layer_moves_it_by_that_many_canvas_pixels_in_the_file_and_on_the_page(page, studio, scene):
    red_before = fx.centroid(fx.red(shown_picture(page)))
    centre = studio.state()["overlays"]["layers"][0]["centre"]
    x, y, width, height = to_screen(page, centre)
    assert width != fx.W  # the picture is scaled on screen: the conversion is exercised
    drag = (-61.0, 33.0)  # screen pixels
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + drag[0] / 2, y + drag[1] / 2, steps=4)
    page.mouse.move(x + drag[0], y + drag[1], steps=4)
    page.mouse.up()
    want = (round(drag[0] * fx.W / width), round(drag[1] * fx.H / height))  # canvas pixels
    studio.wait_for(lambda: move_of(scene.read_text()) != (96, 0), "the gesture written into the file")
    assert move_of(scene.read_text()) == (96 + want[0], 0 + want[1])
    assert scene.read_text() == SCENE.replace('dx="96"   dy="0"', f'dx="{96 + want[0]}"   dy="{want[1]}"')

    page.wait_for_selector('#picture[data-n="2"]', timeout=MS)
    red_after = fx.centroid(fx.red(shown_picture(page)))
    cell = 8 * fx.W / studio.state()["stats"]["render_size"][0]  # the move is applied in whole latent cells
    assert abs(red_after[0] - red_before[0] - want[0]) <= cell
    assert abs(red_after[1] - red_before[1] - want[1]) <= cell


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


def test_the_resize_handle_and_the_flip_button_each_add_one_transform(page, studio, scene):
    layer = studio.state()["overlays"]["layers"][0]
    x, y, _, _ = to_screen(page, layer["centre"])
    page.mouse.click(x, y)  # selects the layer: its handle and tools appear
    page.wait_for_selector("#resize-handle", timeout=MS)
    handle = page.locator("#resize-handle").bounding_box()
    hx, hy = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(hx, hy)
    page.mouse.down()
    page.mouse.move(hx + 30, hy + 30, steps=5)
    page.mouse.up()
    studio.wait_for(lambda: "<resize" in scene.read_text(), "the resize written into the file")
    cx, cy, width, height = to_screen(page, layer["centre"])
    ratio = np.hypot(hx + 30 - cx, hy + 30 - cy) / np.hypot(hx - cx, hy - cy)  # on screen, both axes scaled alike
    written = float(re.search(r'<resize scale="([\d.]+)"/>', scene.read_text()).group(1))
    assert abs(written - ratio) < 0.01 and written > 1

    page.click("#flip-h")
    studio.wait_for(lambda: "<flip" in scene.read_text(), "the flip written into the file")
    text = scene.read_text()
    assert text.count("<flip") == 1 and 'axis="horizontal"' in text and text.count("<resize") == 1
