"""The examples: every scene is valid and canonical, and make_pictures.py draws the committed pictures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from designedit.io import dump, load, read_file

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCENES = sorted(p for p in EXAMPLES.iterdir() if p.name.endswith((".dedit", ".dedit.json")))


def test_there_are_at_least_three_example_scenes():
    assert len(SCENES) >= 3
    assert {read_file(p).form for p in SCENES} == {"xml", "json"}


@pytest.mark.parametrize("path", SCENES, ids=lambda p: p.name)
def test_example_is_valid_and_canonical(path: Path):
    loaded = read_file(path)  # checks every picture it names
    assert dump(loaded.scene, loaded.form) == path.read_text(encoding="utf-8")
    assert all(i.src.startswith("pictures/") for i in loaded.scene.images)


def test_make_pictures_draws_the_committed_pictures(tmp_path: Path):
    proc = subprocess.run([sys.executable, str(EXAMPLES / "make_pictures.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in (EXAMPLES / "pictures").iterdir())
    for name in made:
        new, old = Image.open(tmp_path / name), Image.open(EXAMPLES / "pictures" / name)
        assert (new.size, new.mode) == (old.size, old.mode)
        if name.endswith("-mask.png"):  # pure geometry: identical; text may render slightly differently elsewhere
            assert np.array_equal(np.asarray(new), np.asarray(old))


def test_example_masks_select_what_the_scenes_say():
    sun = np.asarray(Image.open(EXAMPLES / "pictures" / "sun-mask.png")) >= 128
    ys, xs = np.nonzero(sun)
    assert abs(xs.mean() - 150) < 1 and abs(ys.mean() - 190) < 1
    poster = np.asarray(Image.open(EXAMPLES / "pictures" / "poster.png").convert("RGB")).astype(int)
    assert (poster[190, 150] == [250, 170, 40]).all()  # the sun's colour at its centre
    scene = load(EXAMPLES / "remove-title.dedit")
    title = scene.mask("title").shapes[0]
    region = poster[title.y:title.y + title.height, title.x:title.x + title.width]
    assert (np.abs(region - [60, 40, 20]).sum(axis=2) < 60).any()  # the title's ink is inside the removed rect
