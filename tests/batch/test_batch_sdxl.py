"""A batch of 20 tiny-SDXL scenes (issue 15, done when): the model is loaded once for all of them, the
pixels are those of rendering each scene alone, and a broken scene is reported, located, while the rest
render."""

from __future__ import annotations

import shutil

import numpy as np

from batch_fixtures import pixels, write_batch
from designedit.cli import main


def test_twenty_scenes_load_the_model_once(tiny32, tmp_path, monkeypatch, capsys):
    from dedit_sdxl import loading

    real, loads = loading.load_model, []
    monkeypatch.setattr(loading, "load_model", lambda options: loads.append(options) or real(options))
    folder = tmp_path / "scenes"
    folder.mkdir()
    write_batch(folder, count=20)
    alone = tmp_path / "alone"
    shutil.copytree(folder, alone)
    flags = ["--renderer", "sdxl", "--model", str(tiny32), "--steps", "2"]

    assert main(["render", str(folder), *flags]) == 2  # the broken scene; the 20 others rendered
    out, err = capsys.readouterr()
    assert len(loads) == 1
    assert out.splitlines()[-1].startswith("batch: 20 of 21 rendered in ")
    assert f"{folder / 'broken.dedit'}:7:11: dx must be a number of pixels" in err
    assert out.count(", sdxl, ") == 20

    for name in ("scene-0", "scene-13"):  # each as `dedit render ONE.dedit` renders it
        assert main(["render", str(alone / f"{name}.dedit"), *flags]) == 0
        np.testing.assert_array_equal(pixels(folder / f"{name}.png"), pixels(alone / f"{name}.png"))
    assert len(loads) == 3
