"""(g) Model loading: a diffusers folder, a hub id from a local cache, a single .safetensors; never a download."""

from __future__ import annotations

import os
import shutil
import socket

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

torch.set_num_threads(1)  # tiny models: threads only add contention on a shared 2-core machine

from designedit.errors import DeditError
from designedit.rendering.protocol import RenderOptions
from dedit_sdxl import sdxl_options
from sdxl_tiny import build_tiny_sdxl, hub_cache_with, write_ldm_checkpoint

from dedit_sdxl import SDXLRenderer
from dedit_sdxl.loading import load_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_sdxl(tmp_path_factory.mktemp("tinyload") / "model", seed=3)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test, so 'no download' is checked, not assumed."""

    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _state(pipe, name):
    return getattr(pipe, name).state_dict()


def _same_weights(a, b):
    for name in ("unet", "vae", "text_encoder", "text_encoder_2"):
        sa, sb = _state(a, name), _state(b, name)
        assert sa.keys() == sb.keys(), name
        for k in sa:
            assert torch.equal(sa[k], sb[k]), f"{name}.{k}"


def test_hub_id_resolves_from_a_local_cache(tiny, tmp_path, monkeypatch, no_network):
    hub = tmp_path / "hub"
    rev = "0123456789abcdef0123456789abcdef01234567"
    hub_cache_with(tiny, hub, "acme/tiny-sdxl", rev, monkeypatch)

    loaded = load_model(sdxl_options(model="acme/tiny-sdxl"))
    assert loaded.identity == f"hub:acme/tiny-sdxl@{rev}"
    _same_weights(loaded.pipe, load_model(sdxl_options(model=str(tiny))).pipe)

    with pytest.raises(DeditError, match="not in the local Hugging Face cache") as err:
        load_model(sdxl_options(model="acme/absent"))
    assert "acme/absent" in str(err.value) and "\n" not in str(err.value)


def test_single_safetensors_goes_through_the_single_file_loader(tiny, tmp_path, monkeypatch, no_network):
    from diffusers import StableDiffusionXLPipeline

    folder = load_model(sdxl_options(model=str(tiny)))
    ckpt = write_ldm_checkpoint(folder.pipe, tmp_path / "tiny-sdxl.safetensors")
    calls = []
    original = StableDiffusionXLPipeline.from_single_file.__func__

    def spy(cls, path, **kwargs):
        calls.append((path, kwargs))
        return original(cls, path, **kwargs)

    monkeypatch.setattr(StableDiffusionXLPipeline, "from_single_file", classmethod(spy))
    monkeypatch.setenv("DEDIT_MODEL_CONFIG", str(tiny))
    single = load_model(sdxl_options(model=str(ckpt)))
    assert len(calls) == 1
    path, kwargs = calls[0]
    assert path == str(ckpt) and kwargs["config"] == str(tiny) and kwargs["local_files_only"] is True
    _same_weights(single.pipe, folder.pipe)


def test_single_file_without_a_local_config_names_what_was_tried(tiny, tmp_path, monkeypatch, no_network):
    monkeypatch.delenv("DEDIT_MODEL_CONFIG", raising=False)
    monkeypatch.setenv("DEDIT_CLIP_BPE", str(tmp_path / "no-bpe.txt.gz"))  # nothing to build a config from either
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    ckpt = tmp_path / "model.safetensors"
    ckpt.write_bytes(b"not really")
    with pytest.raises(DeditError, match="stable-diffusion-xl-base-1.0"):
        load_model(sdxl_options(model=str(ckpt)))


@pytest.mark.parametrize(
    "spec, words",
    [("/nonexistent/model", "was not found"), ("not-a-model", "was not found")],
)
def test_missing_model_is_one_sentence(spec, words, no_network):
    with pytest.raises(DeditError, match=words) as err:
        load_model(sdxl_options(model=spec))
    assert spec in str(err.value) and "\n" not in str(err.value)


def test_unreadable_weights_are_a_dedit_error(tiny, tmp_path, no_network):
    broken = tmp_path / "broken"
    shutil.copytree(tiny, broken)
    for f in (broken / "unet").glob("*.safetensors"):
        f.write_bytes(b"garbage")
    with pytest.raises(DeditError, match="could not load the SDXL model"):
        load_model(sdxl_options(model=str(broken)))


def test_a_real_folder_without_its_unet_names_the_missing_part(tiny, tmp_path, no_network):
    broken = tmp_path / "brokenmodel"
    shutil.copytree(tiny, broken)
    shutil.rmtree(broken / "unet")
    with pytest.raises(DeditError) as err:
        load_model(sdxl_options(model=str(broken)))
    assert str(err.value) == (f"the model folder {broken} is incomplete: it has no unet folder, which its "
                              "model_index.json lists.")


def test_no_model_configured(monkeypatch):
    monkeypatch.delenv("DEDIT_MODEL", raising=False)
    ok, why = SDXLRenderer.available(RenderOptions())
    assert not ok and "DEDIT_MODEL" in why
    with pytest.raises(DeditError, match="--model"):
        load_model(RenderOptions())


def test_model_from_environment(tiny, monkeypatch):
    monkeypatch.setenv("DEDIT_MODEL", str(tiny))
    assert SDXLRenderer.available(RenderOptions())[0]
    assert SDXLRenderer(sdxl_options(cache=False)).latent_scale == 8


def _string_constants(path) -> list[str]:
    import ast

    return [node.value for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_the_model_variable_and_the_no_model_sentence_have_one_source(tmp_path, monkeypatch):
    """$DEDIT_MODEL is named, and "needs a model and none is configured" written, in dedit_sdxl.options only;
    the SDXL package's preflight and `--renderer sdxl` in the core say the very same sentence."""
    from pathlib import Path

    import designedit
    import dedit_sdxl
    from designedit.rendering.select import choose_renderer
    from dedit_sdxl import preflight

    sources = [*Path(designedit.__file__).parent.rglob("*.py"), *Path(dedit_sdxl.__file__).parent.rglob("*.py")]
    defining = sorted(p.name for p in sources if "DEDIT_MODEL" in _string_constants(p))
    saying = sorted(p.name for p in sources if any("needs a model and none is configured" in s for s in _string_constants(p)))
    assert defining == saying == ["options.py"]

    monkeypatch.delenv("DEDIT_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    with pytest.raises(DeditError) as from_preflight:
        preflight(RenderOptions())
    with pytest.raises(DeditError) as from_choice:
        choose_renderer("sdxl", RenderOptions())
    assert str(from_preflight.value) == str(from_choice.value)
    assert "needs a model and none is configured" in str(from_choice.value)


def test_loading_keeps_no_aliases_of_locate():
    import dedit_sdxl.loading as loading

    assert not hasattr(loading, "_hub_snapshot") and not hasattr(loading, "available")


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny, tmp_path_factory):
    """A single-file checkpoint of the tiny model: not shaped like SDXL base."""
    return write_ldm_checkpoint(load_model(sdxl_options(model=str(tiny))).pipe, tmp_path_factory.mktemp("ckpt") / "tiny.safetensors")


@pytest.mark.parametrize("source", ["--model-config", "$DEDIT_MODEL_CONFIG"])
@pytest.mark.parametrize("exists", [False, True])
def test_a_named_config_that_is_not_a_diffusers_folder_is_named_with_its_source(
        tiny_checkpoint, tmp_path, monkeypatch, no_network, source, exists):
    named = tmp_path / ("empty" if exists else "absent")
    if exists:
        named.mkdir()
    monkeypatch.delenv("DEDIT_MODEL_CONFIG", raising=False)
    extra = {}
    if source == "--model-config":
        extra["model_config"] = str(named)
    else:
        monkeypatch.setenv("DEDIT_MODEL_CONFIG", str(named))
    with pytest.raises(DeditError) as err:
        load_model(sdxl_options(model=str(tiny_checkpoint), cache_dir=tmp_path / "cache", **extra))
    text = str(err.value)
    assert f"the {source} {named} given for the single-file checkpoint" in text
    assert "is not a diffusers SDXL folder" in text
    assert ("has no model_index.json" if exists else "does not exist") in text
    # only what applies: the config was given, so neither open_clip nor the other variable is suggested
    other = "DEDIT_MODEL_CONFIG" if source == "--model-config" else "--model-config"
    assert "open_clip" not in text and other not in text
    assert "\n" not in text and text.count(". ") == 0 and text.endswith(".")


def test_a_checkpoint_of_another_shape_read_with_assumed_base_configs_says_how_to_fix_it(
        tiny_checkpoint, tmp_path, monkeypatch, no_network):
    from dedit_sdxl import sdxl_config

    assert sdxl_config.find_clip_bpe()[0] is not None  # open_clip's vocabulary: SDXL base's configs get built
    monkeypatch.delenv("DEDIT_MODEL_CONFIG", raising=False)
    monkeypatch.delenv("DEDIT_CLIP_BPE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    with pytest.raises(DeditError) as err:
        load_model(sdxl_options(model=str(tiny_checkpoint), cache_dir=tmp_path / "cache"))
    text = str(err.value)
    assert "does not seem to contain a valid CLIP model" in text  # diffusers' own words come first
    assert "SDXL base's published configs were assumed" in text
    assert "pass --model-config DIR, a diffusers folder of the checkpoint's architecture" in text
    assert "open_clip" not in text and "\n" not in text


def test_model_config_with_a_diffusers_folder_is_ignored_with_a_warning(tiny, picture_file, tmp_path, no_network):
    from sdxl_tiny import plain_plan

    from dedit_sdxl.loading import ignored_config_warning
    from dedit_sdxl.locate import locate

    options = sdxl_options(model=str(tiny), cache=False, model_config="/nonexistent")
    stats = SDXLRenderer(options).render(plain_plan(picture_file, size=64, steps=1)).stats
    assert stats["warnings"] == [
        f"--model-config /nonexistent is ignored: it applies to a single .safetensors --model only, and the diffusers "
        f"folder {tiny} carries its own configs"
    ]
    plain = SDXLRenderer(sdxl_options(model=str(tiny), cache=False)).render(plain_plan(picture_file, size=64, steps=1))
    assert "warnings" not in plain.stats
    checkpoint = tmp_path / "x.safetensors"
    checkpoint.write_bytes(b"x")
    assert ignored_config_warning(sdxl_options(model_config="/c"), locate(str(checkpoint))) is None


@pytest.fixture
def picture_file(tmp_path):
    from sdxl_tiny import write_picture

    return write_picture(tmp_path / "p.png", size=64)
