"""`--renderer sdxl` says what is missing (a model, the model's file, torch) before importing torch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from designedit.cli import main
from designedit.errors import DeditError
from designedit.renderer import RenderOptions

from dedit_sdxl import locate, preflight
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
    "model, words",
    [
        (None, "needs a model and none is configured"),
        ("{tmp}/nothing.safetensors", "the model file {tmp}/nothing.safetensors does not exist."),
        ("{tmp}/no-folder", "there is no folder or file {tmp}/no-folder."),
        ("acme/absent", "not in the local Hugging Face cache"),
    ],
)
def test_a_missing_model_is_said_without_importing_torch(scene, tmp_path, model, words):
    args = ["render", str(scene), "--renderer", "sdxl"]
    if model is not None:
        args += ["--model", model.format(tmp=tmp_path)]
    status, err, imported = run_cli(args, tmp_path)
    assert status == 1 and imported == set()
    assert err.strip().splitlines() == [err.strip()] and words.format(tmp=tmp_path) in err
    assert not (scene.parent / "scene.png").exists()


def test_a_configured_model_under_auto_is_checked_too(scene, tmp_path):
    status, err, imported = run_cli(["render", str(scene), "--model", str(tmp_path / "x.safetensors")], tmp_path)
    assert status == 1 and imported == set() and "does not exist" in err


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
    preflight(RenderOptions(model=str(diffusers_folder)))  # all there: no error
    assert locate.available(RenderOptions(model=str(ckpt)))[0]
    ok, why = locate.available(RenderOptions(model=str(tmp_path / "gone.safetensors")))
    assert not ok and "does not exist" in why


def test_the_package_imports_without_torch():
    code = "import sys, dedit_sdxl; dedit_sdxl.preflight; assert not {'torch', 'diffusers'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
