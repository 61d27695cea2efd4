"""`dedit render` and `designedit.render` with the preview renderer, end to end."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

import render_fixtures as fx
import designedit
from dedit_preview import PreviewRenderer
from dedit_sdxl import SDXLOptions
from designedit.cli import main
from designedit.rendering.outputs import read_png_metadata

from cli_fixtures import leftovers, no_model, renderer_options, scene, scene_json  # noqa: F401 (fixtures)
from shared_paths import CONFORMANCE, cases  # noqa: E402
DOCUMENTS = cases(lambda: sorted(p.name for p in CONFORMANCE.glob("*.dedit*")))


@pytest.fixture()
def conformance(tmp_path):
    folder = tmp_path / "conformance"
    shutil.copytree(CONFORMANCE, folder)
    return folder


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_conformance_document_renders_to_the_canvas_size(conformance, tmp_path, name):
    out = tmp_path / "out.png"
    result = designedit.render(conformance / name, output=out, renderer="preview", announce=None)
    scene = designedit.load(conformance / name)
    canvas = scene.canvas
    w, h = (canvas.width, canvas.height) if canvas else Image.open(conformance / scene.image(scene.background.image).src).size
    with Image.open(out) as im:
        assert im.size == (w, h) and im.mode == "RGB"
    assert result.image.shape == (h, w, 3)
    assert result.stats["unet_evals"] == 0


def test_move_resize_puts_the_ball_where_the_transforms_say(conformance, tmp_path):
    result = designedit.render(conformance / "move-resize.dedit", renderer="preview", announce=None)
    red = fx.red(result.image)
    # resize 0.75 about the centroid (150, 200) keeps it there; then move 25% of 512 = 128 right, 16 up
    cx, cy = fx.centroid(red)
    assert abs(cx - 278) <= 2 and abs(cy - 184) <= 2
    assert abs(red.sum() - np.pi * 45**2) < 0.06 * np.pi * 45**2  # three quarters of the radius
    old_spot = fx.ball_mask(grow=-3) > 0
    assert red[old_spot].sum() == 0


def test_cli_render_writes_the_scene_output_with_metadata(conformance, capsys):
    assert main(["render", str(conformance / "move-resize.dedit")]) == 0
    out = conformance / "out" / "poster-edited.png"
    with Image.open(out) as im:
        assert im.size == (512, 384)
    meta = read_png_metadata(out)
    assert meta["renderer"] == "preview" and meta["schedule"] == "fast" and meta["model"] == "none"
    assert meta["seed"].isdigit() and meta["steps"].isdigit() and len(meta["scene-hash"]) >= 8
    assert meta["version"] == designedit.__version__
    captured = capsys.readouterr()
    assert "renderer: preview (" in captured.err
    assert f"wrote {out}" in captured.out and "0 UNet evaluations" in captured.out
    assert leftovers(conformance) == []


def test_default_output_is_the_file_name_with_png_and_flags_reach_the_plan(scene, capsys):
    stats = scene.parent / "stats.json"
    assert main(["render", str(scene), "--seed", "7", "--steps", "20", "--schedule", "reference", "--stats", str(stats)]) == 0
    out = scene.parent / "scene.png"
    meta = read_png_metadata(out)
    assert (meta["seed"], meta["steps"], meta["schedule"]) == ("7", "20", "reference")
    data = json.loads(stats.read_text())
    assert data["unet_evals"] == 0 and data["seconds"] >= 0 and data["renderer"] == "preview"
    assert data["canvas"] == [512, 384] and data["output"] == str(out)


def test_layers_flag_writes_the_decomposition(scene):
    layers = scene.parent / "layers"
    assert main(["render", str(scene), "-o", str(scene.parent / "x.png"), "--layers", str(layers)]) == 0
    assert sorted(p.name for p in layers.iterdir()) == ["background.png", "layer-ball.png", "x.ora"]
    with Image.open(layers / "layer-ball.png") as im:
        alpha = np.asarray(im)[..., 3]
    cx, _ = fx.centroid(alpha >= 128)
    assert abs(cx - 250) <= 2


def test_explicit_sdxl_without_a_model_fails_in_one_sentence(scene, capsys):
    assert main(["render", str(scene), "--renderer", "sdxl"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dedit: ") and "model" in err[0]
    assert not (scene.parent / "scene.png").exists()


def test_an_interrupted_render_writes_nothing_and_keeps_the_old_picture(scene, monkeypatch, capsys):
    out = scene.parent / "scene.png"
    out.write_bytes(b"previous picture")

    def interrupted(self, plan, progress=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(PreviewRenderer, "render", interrupted)
    assert main(["render", str(scene), "--layers", str(scene.parent / "layers")]) == 130
    assert out.read_bytes() == b"previous picture"
    assert not (scene.parent / "layers").exists() and leftovers(scene.parent) == []


def test_an_interruption_while_writing_leaves_no_partial_file(scene, monkeypatch):
    import designedit.rendering.atomic as atomic

    def fail(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", fail)
    assert main(["render", str(scene)]) == 130
    assert not (scene.parent / "scene.png").exists() and leftovers(scene.parent) == []


def test_the_output_may_not_replace_an_input(scene, capsys):
    before = (scene.parent / "poster.png").read_bytes()
    assert main(["render", str(scene), "-o", str(scene.parent / "poster.png")]) == 2
    assert (scene.parent / "poster.png").read_bytes() == before
    assert "refusing to overwrite" in capsys.readouterr().err
    assert main(["render", str(scene), "--stats", str(scene)]) == 2  # the statistics may not replace the scene
    assert "refusing to overwrite" in capsys.readouterr().err and scene.read_text() == scene_json()


def test_an_invalid_document_exits_2_with_located_problems(tmp_path, capsys):
    fx.write_poster(tmp_path)
    bad = tmp_path / "bad.dedit"
    bad.write_text(scene_json().replace('"image": "poster"', '"image": "nothing"'))
    assert main(["render", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.dedit" in err and not (tmp_path / "bad.png").exists()


def test_python_api_returns_pictures_without_writing(scene):
    result = designedit.render(scene, renderer="preview", announce=None)
    assert result.image.shape == (384, 512, 3) and set(result.layers) == {"background", "layer:ball"}
    assert sorted(p.name for p in scene.parent.iterdir()) == ["ball-mask.png", "poster.png", "scene.dedit"]


def test_the_public_render_function_is_not_shadowed_by_a_module():
    import designedit.cli.render_cmd  # noqa: F401 - imports the implementation module
    import designedit.watch  # noqa: F401

    from designedit.rendering.session import render

    assert callable(designedit.render) and designedit.render is render  # the function, not a module


def test_auto_render_without_a_model_never_imports_torch(scene, tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import sys; from designedit.cli import main; "
        f"assert main(['render', {str(scene)!r}, '-o', {str(tmp_path / 'o.png')!r}]) == 0; "
        "assert not {'torch', 'diffusers', 'transformers'} & set(sys.modules)"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "no-hub"), "HF_HUB_OFFLINE": "1"}
    env.pop("DEDIT_MODEL", None)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    assert (tmp_path / "o.png").is_file()


def test_unwritable_or_non_png_outputs_fail_in_one_sentence(scene, capsys):
    (scene.parent / "taken.png").mkdir()
    assert main(["render", str(scene), "-o", str(scene.parent / "taken.png")]) == 2
    assert capsys.readouterr().err.splitlines() == [f"dedit: cannot write {scene.parent / 'taken.png'}: "
                                                    f"{scene.parent / 'taken.png'} is a folder, not a file."]
    with pytest.raises(SystemExit) as exit_:
        main(["render", str(scene), "-o", str(scene.parent / "x.jpg")])
    assert exit_.value.code == 2  # a usage error, like argparse's own
    assert "x.jpg is not a .png file name" in capsys.readouterr().err and not (scene.parent / "x.jpg").exists()
    assert leftovers(scene.parent) == []


def test_a_bad_cache_size_is_a_usage_error(scene, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["render", str(scene), "--cache-size", "lots"])
    assert exit_.value.code == 2
    assert "the cache size must be a size such as 4G, 500M or 2GB, not 'lots'" in capsys.readouterr().err


def test_flags_reach_the_renderer_options_and_one_instance_renders(scene, renderer_options):
    seen = renderer_options
    args = ["render", str(scene), "--renderer", "preview", "--no-paste-back", "--device", "cpu", "--dtype", "bf16",
            "--offload", "--cache-dir", str(scene.parent / "c"), "--model", "some/model",
            "--model-config", str(scene.parent / "cfg"), "--cache-size", "500M", "--compile", "unet"]
    assert main(args) == 0
    (options,) = seen
    sdxl = options.of(SDXLOptions)  # the SDXL renderer's own options travel typed, whichever renderer runs
    assert options.cache_max_bytes == 500 * 1024**2 and sdxl.compile == "unet"
    assert (options.paste_back, sdxl.device, sdxl.dtype, sdxl.offload) == (False, "cpu", "bf16", True)
    assert options.cache_dir == scene.parent / "c" and sdxl.model == "some/model"
    assert sdxl.model_config == str(scene.parent / "cfg")
    assert read_png_metadata(scene.parent / "scene.png")["model"] == "none"  # the preview used no model


def test_sigterm_while_writing_exits_143_and_leaves_no_partial_file(scene, monkeypatch, capsys):
    import os
    import signal

    import designedit.rendering.atomic as atomic

    real_fsync = atomic.os.fsync

    def terminated(fd):
        os.kill(os.getpid(), signal.SIGTERM)  # a real signal: dedit's handler turns it into an unwinding exception
        real_fsync(fd)

    handler = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(atomic.os, "fsync", terminated)
    assert main(["render", str(scene)]) == 143
    assert "terminated; nothing was written" in capsys.readouterr().err
    assert not (scene.parent / "scene.png").exists() and leftovers(scene.parent) == []
    assert signal.getsignal(signal.SIGTERM) == handler  # put back afterwards


def test_a_renderers_own_warnings_follow_the_scenes(scene, monkeypatch, capsys):
    original = PreviewRenderer.render

    def with_warning(self, plan, progress=None):
        result = original(self, plan, progress)
        result.stats["warnings"] = ["the prompt is 90 tokens long"]
        return result

    monkeypatch.setattr(PreviewRenderer, "render", with_warning)
    stats = scene.parent / "stats.json"
    assert main(["render", str(scene), "--renderer", "preview", "--stats", str(stats)]) == 0
    assert "warning: the prompt is 90 tokens long" in capsys.readouterr().err
    assert json.loads(stats.read_text())["warnings"] == ["the prompt is 90 tokens long"]


def test_paste_back_is_recorded_in_the_png_metadata_and_the_stats(scene, capsys):
    stats = scene.parent / "stats.json"
    for flags, recorded in (([], "true"), (["--no-paste-back"], "false")):
        out = scene.parent / f"out-{recorded}.png"
        assert main(["render", str(scene), "-o", str(out), "--stats", str(stats), *flags]) == 0
        meta = read_png_metadata(out)
        assert meta["paste-back"] == recorded
        assert "dtype" not in meta and "device" not in meta  # the preview runs no model
        assert json.loads(stats.read_text())["paste_back"] == (recorded == "true")


def test_the_status_line_says_where_a_remembered_branch_state_resumed():
    from designedit.cli.render_cmd import status_line

    stats = {"canvas": [512, 384], "renderer": "sdxl", "total_seconds": 3.2, "unet_evals": 9, "cache_hits": 0}
    assert status_line({**stats, "resumed_at_step": 41}, "o.png") == (
        "wrote o.png (512x384) with sdxl in 3.20 s: 9 UNet evaluations, 0 cache hits, resumed at step 41")
    assert status_line({**stats, "resumed_at_step": None}, "o.png").endswith("9 UNet evaluations, 0 cache hits")


def test_the_scenes_warnings_come_before_the_render_the_renderers_after(scene, monkeypatch):
    from designedit.rendering.session import RenderSession

    order = []
    original = PreviewRenderer.render

    def render(self, plan, progress=None):
        order.append("render")
        result = original(self, plan, progress)
        result.stats["warnings"] = ["from the renderer"]
        return result

    monkeypatch.setattr(PreviewRenderer, "render", render)
    import designedit.compiler as compiler

    real_compile = compiler.compile_scene

    def compile_with_warning(*a, **k):
        plan = real_compile(*a, **k)
        plan.warnings = ["from the scene"]
        return plan

    monkeypatch.setattr(compiler, "compile_scene", compile_with_warning)
    session = RenderSession("preview", announce=None)
    result = session.render(designedit.load(scene), warn=order.append)
    assert order == ["from the scene", "render", "from the renderer"]
    assert result.stats["warnings"] == ["from the scene", "from the renderer"]
