"""Plan warnings: scenes that compile but are probably not what the author meant."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from compiler_scenes import BALL, BOX, ball_layer, copy_pictures, operation_scenes, scene
from designedit.model import scene as m
from designedit.cli import main
from designedit.compiler import compile_scene
from designedit.plan import Plan

from cli_fixtures import no_model  # noqa: F401 (fixture)


@pytest.fixture()
def folder(tmp_path):
    folder = copy_pictures(tmp_path)
    return folder


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_ordinary_scenes_have_no_warnings(folder, schedule):
    for name, s in operation_scenes(folder).items():
        assert compile_scene(s, schedule=schedule).warnings == [], name


@pytest.mark.parametrize("dx, keep, warned", [(2000, False, "its cut still removes the object from the background"), (-2000, True, "it changes nothing"), (300, False, None)])
def test_a_layer_moved_entirely_off_the_canvas(folder, dx, keep, warned):
    # the ball spans x 90..210 of the 512 px canvas: +300 leaves part of it on the canvas
    plan = compile_scene(scene(folder, masks=[BALL, BOX], layers=[ball_layer(m.Move(dx=dx, dy=0), keep=keep)]))
    if warned is None:
        assert plan.warnings == []
    else:
        assert plan.warnings == [f"layer 'ball' ends up entirely outside the 512x384 canvas: {warned}"]


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_a_removal_that_selects_nothing(folder, schedule):
    eroded = m.Mask(id="gone", shapes=[m.Rect(x=10, y=10, width=50, height=50)], grow=-40)
    faint = np.full((384, 512), 100, np.uint8)  # grey below one half everywhere
    Image.fromarray(faint).save(folder / "faint.png")
    masks = [eroded, m.Mask(id="faint", src="faint.png"), BALL]
    edits = [m.Remove(mask="gone"), m.Remove(mask="faint"), m.Remove(mask="ball")]
    plan = compile_scene(scene(folder, masks=masks, background=m.Background(image="poster", edits=edits)), schedule=schedule)
    empty = "the background's remove of mask {!r} selects nothing on the canvas: nothing is removed there"
    faint = ("the background's remove of mask 'faint' selects no pixel at half strength or more: the reference "
             "schedule inpaints its faint pixels, and paste-back puts the source back over them")
    # the fast schedule thresholds mask pictures (faint is empty there); the reference reads their grey values
    assert plan.warnings == [empty.format("gone"), empty.format("faint") if schedule == "fast" else faint]
    only_faint = scene(folder, masks=masks, background=m.Background(image="poster", edits=[m.Remove(mask="faint")]))
    keyed = compile_scene(only_faint, schedule=schedule).masks["remove@latent"].data.any()
    assert keyed == (schedule == "reference")  # what the warning says each schedule does
    # panned off the canvas: the ball's removal then selects nothing either
    panned = m.Background(image="poster", edits=[m.Remove(mask="ball"), m.Pan(dx=1000, dy=0)])
    assert "mask 'ball' selects nothing" in " ".join(compile_scene(scene(folder, masks=[BALL], background=panned)).warnings)


def test_the_warnings_travel_with_the_plan_and_are_printed(folder, capsys):
    doc = folder / "off.dedit.json"
    doc.write_text(json.dumps({
        "dedit": "1.0",
        "images": [{"id": "poster", "src": "poster.png"}],
        "masks": [{"id": "ball", "src": "ball-mask.png"}],
        "background": {"image": "poster"},
        "layers": [{"id": "ball", "image": "poster", "mask": "ball", "transforms": [{"op": "move", "dx": 5000, "dy": 0}]}],
    }))
    plan = compile_scene(__import__("designedit").load(doc))
    assert Plan.from_json(plan.to_json()).warnings == plan.warnings != []

    assert main(["plan", str(doc)]) == 0
    assert "warnings:\n  - layer 'ball' ends up entirely outside" in capsys.readouterr().out
    stats = folder / "stats.json"
    assert main(["render", str(doc), "--renderer", "preview", "--stats", str(stats)]) == 0
    err = capsys.readouterr().err
    assert "warning: layer 'ball' ends up entirely outside the 512x384 canvas" in err
    assert json.loads(stats.read_text())["warnings"] == plan.warnings
