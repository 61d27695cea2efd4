"""`--renderer sdxl` says what is missing (a model, the model's file, torch) before importing torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from designedit.cli import main
from designedit.errors import DeditError

from dedit_sdxl import locate, preflight, sdxl_options
from cli_fixtures import no_model, scene  # noqa: F401 (fixtures)

HEAVY = ("torch", "diffusers", "transformers")


@pytest.fixture()
def diffusers_folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")
    return folder


def run_cli(args: list[str], tmp_path) -> tuple[int, str, set[str]]:
    """(exit status, stderr, heavy modules imported) of `dedit ARGS` in a fresh interpreter."""
    code = (
        "import sys; from designedit.cli import main; status = main(sys.argv[1:]); "
        f"print(sorted(set({HEAVY!r}) & set(sys.modules))); sys.exit(status)"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "no-hub"), "HF_HUB_OFFLINE": "1"}
    env.pop("DEDIT_MODEL", None)
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    imported = set(eval(done.stdout.strip().splitlines()[-1])) if done.stdout.strip() else set()
    return done.returncode, done.stderr, imported


@pytest.mark.parametrize(
    "model, words, code",
    [
        (None, "needs a model and none is configured", 1),
        ("{tmp}/nothing.safetensors", "the model file {tmp}/nothing.safetensors does not exist.", 2),  # a bad argument
        ("{tmp}/no-folder", "there is no folder or file {tmp}/no-folder.", 2),
        ("acme/absent", "not in the local Hugging Face cache", 1),  # a model this machine does not have
    ],
)
def test_a_missing_model_is_said_without_importing_torch(scene, tmp_path, model, words, code):
    args = ["render", str(scene), "--renderer", "sdxl"]
    if model is not None:
        args += ["--model", model.format(tmp=tmp_path)]
    status, err, imported = run_cli(args, tmp_path)
    assert status == code and imported == set()
    assert err.strip().splitlines() == [err.strip()] and words.format(tmp=tmp_path) in err
    assert not (scene.parent / "scene.png").exists()


def test_a_configured_model_under_auto_is_checked_too(scene, tmp_path):
    status, err, imported = run_cli(["render", str(scene), "--model", str(tmp_path / "x.safetensors")], tmp_path)
    assert status == 2 and imported == set() and "does not exist" in err


def test_without_torch_it_says_what_to_install(scene, diffusers_folder, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # what a venv without torch looks like to an import
    for args in (["--renderer", "sdxl", "--model", str(diffusers_folder)], ["--model", str(diffusers_folder)]):
        assert main(["render", str(scene), *args]) == 1
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line == ("dedit: the SDXL renderer needs torch, which is not installed: pip install 'designedit[sdxl]' "
                        "(in a source checkout: pip install -e '.[sdxl]').")
    assert not (scene.parent / "scene.png").exists()


def test_locate_tells_the_kinds_apart(tmp_path, diffusers_folder):
    assert locate.locate(str(diffusers_folder)).kind == "folder"
    ckpt = tmp_path / "m.safetensors"
    ckpt.write_bytes(b"weights")
    assert locate.locate(str(ckpt)) == locate.ModelLocation("file", ckpt, str(ckpt))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeditError, match="has no model_index.json"):
        locate.locate(str(tmp_path / "empty"))
    with pytest.raises(DeditError, match="it is not a folder, a .safetensors file or an org/name hub id"):
        locate.locate("not-a-model")
    preflight(sdxl_options(model=str(diffusers_folder)))  # all there: no error
    assert locate.available(sdxl_options(model=str(ckpt)))[0]
    ok, why = locate.available(sdxl_options(model=str(tmp_path / "gone.safetensors")))
    assert not ok and "does not exist" in why


def test_the_package_imports_without_torch():
    code = "import sys, dedit_sdxl; dedit_sdxl.preflight; assert not {'torch', 'diffusers'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def _tiny_folder(tmp_path):
    """A diffusers folder laid out as SDXL's (tests/sdxl_tiny.py writes the same files), weights left empty:
    these checks only look at what is there."""
    folder = tmp_path / "brokenmodel"
    parts = {"unet": ("diffusers", "UNet2DConditionModel"), "vae": ("diffusers", "AutoencoderKL"),
             "text_encoder": ("transformers", "CLIPTextModel"), "text_encoder_2": ("transformers", "CLIPTextModelWithProjection"),
             "tokenizer": ("transformers", "CLIPTokenizer"), "tokenizer_2": ("transformers", "CLIPTokenizer"),
             "scheduler": ("diffusers", "DDIMScheduler")}
    index = {"_class_name": "StableDiffusionXLPipeline", "feature_extractor": [None, None], "force_zeros_for_empty_prompt": True,
             **{name: list(kind) for name, kind in parts.items()}}
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps(index))
    for name in parts:
        (folder / name).mkdir()
        if name == "scheduler":
            (folder / name / "scheduler_config.json").write_text("{}")
        elif name.startswith("tokenizer"):
            (folder / name / "tokenizer.json").write_text("{}")
        else:
            (folder / name / "config.json").write_text("{}")
            (folder / name / ("model.safetensors" if name.startswith("text") else "diffusion_pytorch_model.safetensors")).write_bytes(b"")
    return folder


@pytest.mark.parametrize("damage, words", [
    (lambda f: shutil.rmtree(f / "unet"), "it has no unet folder, which its model_index.json lists."),
    (lambda f: (f / "vae" / "config.json").unlink(), "its vae folder has no config.json, which its model_index.json lists."),
    (lambda f: (f / "text_encoder_2" / "model.safetensors").unlink(),
     "its text_encoder_2 folder has no weights (.safetensors or .bin files), which its model_index.json lists."),
    (lambda f: (f / "scheduler" / "scheduler_config.json").unlink(),
     "its scheduler folder has no scheduler_config.json, which its model_index.json lists."),
])
def test_a_model_folder_with_a_part_missing_names_the_part(scene, tmp_path, damage, words):
    folder = _tiny_folder(tmp_path)
    locate.locate(str(folder))  # complete: found
    damage(folder)
    status, err, imported = run_cli(["render", str(scene), "--renderer", "sdxl", "--model", str(folder)], tmp_path)
    assert (status, imported) == (1, set())
    assert err.strip() == f"dedit: the model folder {folder} is incomplete: {words}"


@pytest.mark.parametrize("name, content, kind", [
    ("poster.png", None, "a PNG picture"),
    ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG picture"),
    ("notes.txt", b"not weights", None),
])
def test_a_file_that_is_not_a_checkpoint_is_a_bad_argument(scene, tmp_path, name, content, kind):
    path = scene.parent / name  # poster.png: the scene's own picture
    if content is not None:
        path.write_bytes(content)
    status, err, imported = run_cli(["render", str(scene), "--model", str(path)], tmp_path)
    assert (status, imported) == (2, set())
    said = f"is {kind}, not an SDXL checkpoint" if kind else "is not an SDXL checkpoint (a .safetensors, .ckpt, .bin, .pt or .pth file)"
    assert err.strip() == (f"dedit: {path} {said}; a model is a diffusers folder, a hub id in the local Hugging Face cache "
                           "or a .safetensors checkpoint.")
    assert "--model-config" not in err
