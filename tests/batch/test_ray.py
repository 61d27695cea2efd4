"""`dedit render --ray` over a local Ray cluster (issue 15 item 4): preview and tiny-SDXL scenes, the same
pixels as a serial run, a broken scene reported, located, by the driver. One Ray for the module (starting
it takes seconds)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import ray

from batch_fixtures import pixels, write_batch
from designedit.cli import main


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield
    ray.shutdown()


def serial_copy(folder: Path, tmp_path: Path, flags: list[str]) -> Path:
    serial = tmp_path / "serial"
    shutil.copytree(folder, serial)
    main(["render", str(serial), *flags])
    return serial


def test_preview_scenes_over_ray_have_the_serial_pixels(local_ray, tmp_path, capsys):
    folder = tmp_path / "ray"
    folder.mkdir()
    write_batch(folder, count=4)
    serial = serial_copy(folder, tmp_path, ["--renderer", "preview"])
    capsys.readouterr()
    assert main(["render", "--ray", str(folder), "--renderer", "preview"]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith(f"bad     {folder / 'broken.dedit'} in ")  # found by the driver, first
    assert f"{folder / 'broken.dedit'}:7:11: dx must be a number of pixels" in err
    assert out.splitlines()[-1].startswith("batch: 4 of 5 rendered")
    for i in range(4):
        np.testing.assert_array_equal(pixels(folder / f"scene-{i}.png"), pixels(serial / f"scene-{i}.png"))
    assert not (folder / "broken.png").exists()


def test_tiny_sdxl_scenes_over_ray_have_the_serial_pixels(local_ray, tiny32, tmp_path, monkeypatch, capsys):
    import torch

    # the actors compute with the driver's thread count ($OMP_NUM_THREADS): this process's serial run's
    monkeypatch.setenv("OMP_NUM_THREADS", str(torch.get_num_threads()))
    folder = tmp_path / "ray"
    folder.mkdir()
    write_batch(folder, count=3, broken=False)
    flags = ["--renderer", "sdxl", "--model", str(tiny32), "--steps", "2"]
    serial = serial_copy(folder, tmp_path, flags)
    capsys.readouterr()
    assert main(["render", "--ray", "--jobs", "2", str(folder), *flags]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("batch: 3 of 3 rendered")
    for i in range(3):
        np.testing.assert_array_equal(pixels(folder / f"scene-{i}.png"), pixels(serial / f"scene-{i}.png"))


def test_each_over_ray_writes_every_row(local_ray, tmp_path, capsys):
    from batch_fixtures import move_scene, tinted
    from render_fixtures import write_ball_scenes

    write_ball_scenes(tmp_path)
    for i in range(3):
        tinted(tmp_path, f"shots/s{i}.png", 15 * i)
    (tmp_path / "t.dedit").write_text(move_scene(96, "shots/{shot}.png", version="1.2"))
    (tmp_path / "m.csv").write_text("shot,output\n" + "".join(f"s{i},out/{i}.png\n" for i in range(3)) + "gone,out/x.png\n")
    assert main(["render", str(tmp_path / "t.dedit"), "--each", str(tmp_path / "m.csv"), "--ray", "--renderer", "preview"]) == 2
    out, err = capsys.readouterr()
    assert f"{tmp_path / 'm.csv'}:5: shot: 'shots/gone.png' does not exist" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.png", "1.png", "2.png"]
