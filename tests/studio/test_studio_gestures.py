"""Gestures written into the scene file: over HTTP on a real studio (what is written, what is refused), in a real
browser (a drag, the resize handle, the flip button), and with the tiny SDXL (a drag's re-render is cheap)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import render_fixtures as fx
from studio_process import MS, SCENE, Studio, picture_number
from conftest import MS
from test_studio_browser import move_of, shown_picture, to_screen


@pytest.mark.parametrize("body, status", [
    ({"kind": "move", "layer": "nobody", "dx": 5, "dy": 0}, 404),
    ({"kind": "teleport", "layer": "ball"}, 422),
    ({"kind": "resize", "layer": "ball", "scale": -2}, 422),
    ({"kind": "move", "layer": "ball", "dx": 5, "dy": 0, "path": "/etc/passwd"}, 422),
])
def test_a_gesture_that_cannot_work_is_refused_and_writes_nothing(idle_studio, body, status):
    with idle_studio.client() as c:
        answer = c.post("/api/gesture", json=body)
    assert answer.status_code == status
    assert idle_studio.scene.read_text() == SCENE


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_move_changes_only_that_layers_move_in_only_the_scene_file(studio, scene):
    folder = scene.parent
    before = _files(folder)
    n = picture_number(studio.state())
    with studio.client() as c:
        answer = c.post("/api/gesture", json={"kind": "move", "layer": "ball", "dx": 20.4, "dy": -9.6})
    assert answer.status_code == 200 and answer.json()["written"] is True
    assert scene.read_text() == SCENE.replace('<move dx="96"   dy="0"/>', '<move dx="116"   dy="-10"/>')
    studio.wait_state(lambda s: picture_number(s) > n, "the moved render")
    after = _files(folder)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == {"scene.dedit", "out/poster.png"}  # the scene, and the render's own output


def test_resize_and_flip_each_add_one_transform(studio, scene):
    with studio.client() as c:
        assert c.post("/api/gesture", json={"kind": "resize", "layer": "ball", "scale": 0.75}).status_code == 200
        assert c.post("/api/gesture", json={"kind": "flip", "layer": "ball", "axis": "vertical"}).status_code == 200
    text = scene.read_text()
    assert text.count("<resize") == 1 and 'scale="0.75"' in text and 'axis="vertical"' in text
    assert text.index("<move") < text.index("<resize") < text.index("<flip")
    assert "keep this comment" in text and "spacing kept" in text


def test_a_drag_with_the_tiny_sdxl_re_renders_with_at_most_10_unet_evaluations(tiny32, scene, tmp_path):
    """The fast schedule (20 steps: CPU time): the first render inverts and denoises everything; after a drag
    the renderer resumes from the branch state it remembered at the fusion step."""
    running = Studio(scene, "--renderer", "sdxl", "--model", str(tiny32), "--cache-dir", str(tmp_path / "cache"),
                     "--steps", "20")
    try:
        first = running.wait_state(lambda s: picture_number(s) >= 1, "the first SDXL render")
        assert first["status"]["unet_evals"] > 20  # cold: the inversion and every denoising step ran
        with running.client() as c:
            assert c.post("/api/gesture", json={"kind": "move", "layer": "ball", "dx": -32, "dy": 16}).status_code == 200
        second = running.wait_state(lambda s: picture_number(s) >= 2, "the render after the drag")
        stats = second["stats"]
        assert 0 < stats["unet_evals"] <= 10, stats
        assert stats["resumed_at_step"] is not None and stats["inversion_evals"] == 0
        assert second["status"]["unet_evals"] == stats["unet_evals"]
    finally:
        assert running.stop() == 0, "\n".join(running.lines)


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


JSON_SCENE = """{
  "dedit": "1.0",
  "images": [{"id": "p", "src": "poster.png"}],
  "masks": [{"id": "ball", "src": "ball-mask.png"}],
  "background": {"image": "p"},
  "layers": [
    {"id": "ball", "image": "p", "mask": "ball",
     "transforms": [{"op": "move", "dx": 96, "dy": 0}]}
  ],
  "output": {"path": "out/poster.png"}
}
"""


def test_a_json_scene_gets_the_same_smallest_changes(tmp_path):
    from studio_process import write_scene

    scene = write_scene(tmp_path, JSON_SCENE)
    running = Studio(scene, "--renderer", "preview")
    try:
        running.wait_state(lambda s: picture_number(s) == 1, "the first picture")
        with running.client() as c:
            assert c.post("/api/gesture", json={"kind": "move", "layer": "ball", "dx": -20, "dy": 7}).status_code == 200
            assert scene.read_text() == JSON_SCENE.replace('"dx": 96, "dy": 0', '"dx": 76, "dy": 7')
            assert c.post("/api/gesture", json={"kind": "flip", "layer": "ball"}).status_code == 200
        text = scene.read_text()
        assert text.count('"op": "flip"') == 1 and '"axis": "horizontal"' in text
        running.wait_state(lambda s: picture_number(s) >= 2 and not s["busy"], "the renders of the gestures")
    finally:
        assert running.stop() == 0
