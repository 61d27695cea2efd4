"""A canvas larger than its background is outpainted from nearby content, not black."""

import numpy as np
from PIL import Image

from designedit.compiler import compile_scene
from designedit.plan.recipes import materialize
from designedit.model.scene import Background, Canvas, Image as SceneImage, Origin, Scene


def test_uncovered_canvas_starts_from_replicated_edges(tmp_path):
    pic = np.zeros((40, 60, 3), np.uint8)
    pic[:, :, 0] = 200  # red everywhere
    pic[:, -1] = (10, 220, 30)  # a green right-most column
    Image.fromarray(pic).save(tmp_path / "bg.png")
    scene = Scene(
        version="1.0",
        canvas=Canvas(width=100, height=64),
        images=[SceneImage(id="bg", src="bg.png")],
        background=Background(image="bg"),
    ).with_origin(Origin(None, tmp_path, tmp_path))
    plan = compile_scene(scene)
    frame = materialize(plan.image(plan.background), plan.canvas)
    assert frame.shape == (64, 100, 3)
    assert (frame[:40, :60] == pic).all()
    assert (frame[:40, 60:] == (10, 220, 30)).all()  # the right edge, replicated
    assert (frame[40:, :59, 0] == 200).all()  # the bottom edge, replicated
    # and the uncovered area is still a hole the model fills
    hole = plan.masks["remove@canvas"].data
    assert hole[50, 80] > 0 and hole[10, 10] == 0
