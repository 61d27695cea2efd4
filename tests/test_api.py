"""The Python API: `designedit.render` is a quiet library call; its result says what ran and saves itself."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import designedit
from designedit.cli import main
from designedit.errors import DeditError
from designedit.errors import DestinationError
from designedit.rendering.outputs import read_png_metadata
from designedit.rendering.protocol import RenderOptions
from dedit_sdxl import SDXLOptions

from cli_fixtures import leftovers, no_model, renderer_options, scene  # noqa: F401 (fixtures)


def test_render_prints_nothing_and_the_result_names_the_renderer(scene, capfd):
    result = designedit.render(scene)  # auto, no model: the preview
    assert capfd.readouterr() == ("", "")
    assert result.renderer == "preview" and result.stats["renderer"] == "preview"
    assert result.image.shape == (384, 512, 3)
    lines = []
    designedit.render(scene, renderer="preview", announce=lines.append)  # the choice, only when asked
    assert len(lines) == 1 and lines[0].startswith("renderer: preview") and capfd.readouterr() == ("", "")


def test_save_writes_the_picture_with_its_metadata_atomically(scene, tmp_path):
    result = designedit.render(scene, seed=7, steps=20)
    out = result.save(tmp_path / "new" / "edited.png")
    assert out == tmp_path / "new" / "edited.png"
    with Image.open(out) as im:
        assert np.array_equal(np.asarray(im), result.image)
    meta = read_png_metadata(out)
    assert (meta["seed"], meta["steps"], meta["renderer"]) == ("7", "20", "preview") and meta == result.metadata
    # the same file as the CLI writes
    assert main(["render", str(scene), "--seed", "7", "--steps", "20", "-o", str(tmp_path / "cli.png")]) == 0
    assert read_png_metadata(tmp_path / "cli.png") == meta
    assert leftovers(tmp_path) == []


def test_save_refuses_what_it_cannot_write(scene, tmp_path):
    result = designedit.render(scene)
    with pytest.raises(DestinationError, match=r"must be a \.png file"):
        result.save(tmp_path / "edited.jpg")
    with pytest.raises(DeditError, match="is a file, not a folder"):
        result.save(scene / "edited.png")
    assert not (tmp_path / "edited.jpg").exists()


def test_save_never_replaces_one_of_the_scenes_own_files(scene, tmp_path, monkeypatch):
    """As `render(..., output=...)` and `dedit render -o` refuse it: the background picture, the mask picture
    and the document stay as they were; nothing is written (exit status 2 in the CLI: a DestinationError)."""
    result = designedit.render(scene)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    monkeypatch.chdir(tmp_path)
    for target in (tmp_path / "poster.png", "ball-mask.png", tmp_path / "sub" / ".." / "poster.png"):
        with pytest.raises(DestinationError, match="one of the scene's own files; refusing to overwrite it"):
            result.save(target)
    with pytest.raises(DestinationError, match="refusing to overwrite"):
        designedit.render(scene, output=tmp_path / "poster.png")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert leftovers(tmp_path) == [] and not (tmp_path / "sub").exists()
    assert result.save("other.png").name == "other.png" and (tmp_path / "other.png").is_file()  # any other name is fine


def test_render_has_named_parameters_and_a_docstring():
    signature = inspect.signature(designedit.render)
    kinds = {p.kind for p in signature.parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds and inspect.Parameter.VAR_POSITIONAL not in kinds
    for name in ("output", "renderer", "model", "schedule", "steps", "seed", "paste_back", "layers_dir", "stats_path",
                 "root", "device", "dtype", "progress"):
        assert name in signature.parameters, name
        assert name in designedit.render.__doc__, name
    assert "save(" in designedit.render.__doc__


def test_named_model_options_reach_the_renderer(scene, renderer_options):
    seen = renderer_options
    designedit.render(scene, renderer="preview", device="cpu", dtype="bf16", cache_dir=scene.parent / "c", paste_back=False)
    (options,) = seen
    sdxl = options.of(SDXLOptions)  # model, device, dtype: given to the renderers whose options have them
    assert (sdxl.device, sdxl.dtype, options.cache_dir, options.paste_back, options.progress) == (
        "cpu", "bf16", scene.parent / "c", False, False)


def test_python_dash_m_designedit_runs_the_cli(scene, tmp_path):
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "no-hub"), "HF_HUB_OFFLINE": "1"}
    env.pop("DEDIT_MODEL", None)
    version = subprocess.run([sys.executable, "-m", "designedit", "--version"], env=env, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip() == f"dedit {designedit.__version__}"
    run = subprocess.run([sys.executable, "-m", "designedit", "render", str(scene), "-o", str(tmp_path / "m.png")],
                         env=env, capture_output=True, text=True)
    assert run.returncode == 0 and (tmp_path / "m.png").is_file(), run.stderr
    bad = subprocess.run([sys.executable, "-m", "designedit", "render", str(scene), "--steps", "0"],
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 2


@pytest.mark.parametrize("given, named, expected", [
    (RenderOptions(paste_back=False, progress=True), {}, (False, True)),
    (RenderOptions(paste_back=False, progress=True), {"paste_back": True, "progress": False}, (True, False)),
    (None, {}, (True, False)),  # no options: paste-back on, silent
])
def test_paste_back_and_progress_from_options_are_kept_unless_named(scene, monkeypatch, renderer_options, given, named, expected):
    monkeypatch.setattr("designedit.rendering.session.Progress", lambda desc: None)  # no bar in the test output
    designedit.render(scene, renderer="preview", options=given, **named)
    assert [(o.paste_back, o.progress) for o in renderer_options] == [expected]


def test_options_that_do_not_ask_for_progress_keep_the_api_silent(scene, renderer_options, capfd):
    designedit.render(scene, renderer="preview", options=RenderOptions(paste_back=False))
    assert [o.progress for o in renderer_options] == [False]  # no bar, no "loading model" line
    assert capfd.readouterr() == ("", "")


def test_an_unusable_output_is_refused_before_any_renderer_is_built(scene, renderer_options):
    (scene.parent / "a-file").write_text("x")
    with pytest.raises(DestinationError):
        designedit.render(scene, output=scene.parent / "a-file" / "out.png", renderer="preview")
    assert renderer_options == []  # the renderer (for SDXL: torch and its model) was never constructed
