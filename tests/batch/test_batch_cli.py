"""`dedit render` with several scenes, folders and globs (issue 15 item 1), on the preview renderer: one
renderer for them all, a line per scene, a broken scene reported with its location while the others
render, the exit status, --jobs N in processes with the serial run's pixels."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from batch_fixtures import pixels, write_batch
from designedit.cli import main


@pytest.fixture()
def batch(tmp_path: Path) -> Path:
    folder = tmp_path / "scenes"
    folder.mkdir()
    write_batch(folder)
    return folder


def single(folder: Path, name: str, tmp_path: Path) -> np.ndarray:
    """The picture `dedit render ONE.dedit` makes of one scene (a copy of the folder, so nothing collides)."""
    alone = tmp_path / f"alone-{name}"
    shutil.copytree(folder, alone)
    assert main(["render", str(alone / f"{name}.dedit")]) == 0
    return pixels(alone / f"{name}.png")


def test_a_folder_renders_every_scene_and_reports_the_broken_one_located(batch, tmp_path, capsys):
    expected = {name: single(batch, name, tmp_path) for name in ("scene-0", "scene-1", "scene-2")}
    capsys.readouterr()
    assert main(["render", str(batch), "--renderer", "preview"]) == 2  # a bad document, nothing else failed
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["bad", "ok", "ok", "ok"]  # name order: broken first
    assert lines[0].startswith(f"bad     {batch / 'broken.dedit'} in ")
    assert f"{batch / 'broken.dedit'}:7:11: dx must be a number of pixels" in err
    for name, want in expected.items():
        assert f"ok      {batch / (name + '.dedit')} -> {batch / (name + '.png')} (512x384, preview" in out
        np.testing.assert_array_equal(pixels(batch / f"{name}.png"), want)
    assert lines[-1].startswith("batch: 3 of 4 rendered in ") and lines[-1].endswith("; 1 bad input")
    assert not (batch / "broken.png").exists()
    assert err.count("renderer: preview") == 1  # one renderer for the batch


def test_scenes_and_quoted_globs_name_the_batch(batch, capsys):
    assert main(["render", str(batch / "scene-1.dedit"), str(batch / "scene-[02].dedit"), str(batch / "scene-1.dedit")]) == 0
    out = capsys.readouterr().out
    assert out.count("\nok ") + out.startswith("ok ") == 3  # scene-1 named twice, rendered once
    assert sorted(p.name for p in batch.glob("*.png")) == ["ball-mask.png", "poster.png", "scene-0.png", "scene-1.png", "scene-2.png"]


@pytest.mark.parametrize("argv, message", [
    (["{d}/nothing-*.dedit"], "no scene file matches {d}/nothing-*.dedit."),
    (["{d}/empty"], "the folder {d}/empty holds no scene (*.dedit or *.dedit.json)."),
    (["{d}", "-o", "{d}/x.png"], "-o is for one scene; several scenes each go to their own output."),
    (["{d}", "--stats", "{d}/s.json"], "--stats is for one scene; several scenes each go to their own output."),
])
def test_what_a_batch_cannot_do_is_said_in_one_sentence(batch, capsys, argv, message):
    (batch / "empty").mkdir()
    assert main(["render", *[a.format(d=batch) for a in argv]]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"dedit: {message.format(d=batch)}"
    assert not list(batch.glob("scene-*.png"))


def test_a_failed_render_makes_status_1_even_beside_a_bad_document(batch, monkeypatch, capsys):
    """Another failure than bad input wins the exit status (fixing the inputs would not be enough)."""
    from dedit_preview import PreviewRenderer

    from designedit.errors import DeditError

    real = PreviewRenderer.render
    calls = []

    def render(self, plan, progress=None):  # the second render (scene-1, in name order) fails
        calls.append(plan)
        if len(calls) == 2:
            raise DeditError("the renderer ran out of patience.")
        return real(self, plan, progress)

    monkeypatch.setattr(PreviewRenderer, "render", render)
    assert main(["render", str(batch), "--renderer", "preview"]) == 1
    out, err = capsys.readouterr()
    assert [line.split()[0] for line in out.splitlines()[:4]] == ["bad", "ok", "failed", "ok"]
    assert f"  {batch / 'scene-1.dedit'}: the renderer ran out of patience." in err.splitlines()
    assert out.splitlines()[-1].endswith("; 1 bad input; 1 failed")


def test_jobs_render_preview_scenes_in_processes_with_the_serial_pixels(batch, tmp_path, capsys):
    serial = tmp_path / "serial"
    shutil.copytree(batch, serial)
    assert main(["render", str(serial), "--renderer", "preview"]) == 2
    assert main(["render", str(batch), "--renderer", "preview", "--jobs", "2"]) == 2
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("batch: 3 of 4 rendered")
    for name in ("scene-0", "scene-1", "scene-2"):
        np.testing.assert_array_equal(pixels(batch / f"{name}.png"), pixels(serial / f"{name}.png"))


def test_jobs_are_for_the_preview(batch, tiny32, capsys):
    assert main(["render", str(batch), "--renderer", "sdxl", "--model", str(tiny32), "--jobs", "2"]) == 2
    assert "dedit: --jobs runs preview renders in parallel; the sdxl renderer renders a batch in one process" in capsys.readouterr().err
    assert not list(batch.glob("scene-*.png"))


def test_one_scene_renders_as_it_always_did(batch, capsys):
    assert main(["render", str(batch / "scene-0.dedit")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {batch / 'scene-0.png'} (512x384) with preview in ")
    assert "batch:" not in out


def test_without_ray_the_flag_says_so_in_one_sentence(batch, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as where it is not installed
    assert main(["render", "--ray", str(batch / "scene-0.dedit"), str(batch / "scene-1.dedit")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "dedit: --ray needs Ray, which is not installed (pip install 'designedit[ray]').")
    assert not list(batch.glob("scene-*.png"))
