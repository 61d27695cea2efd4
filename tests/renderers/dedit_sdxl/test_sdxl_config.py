"""A lone SDXL checkpoint loads with nothing else: SDXL base's configs and CLIP tokenizers written locally.

The tokenizers are built from the real CLIP BPE vocabulary that the
open_clip_torch package ships (installed without its dependencies for the
tests); ids are checked against CLIP's well-known ones, and the configs by
building every component on the meta device and counting SDXL's parameters.
"""

from __future__ import annotations

import json

import pytest
import torch

from dedit_sdxl import sdxl_config
from dedit_sdxl.loading import load_model
from designedit.errors import DeditError
from dedit_sdxl import sdxl_options


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    bpe, tried = sdxl_config.find_clip_bpe()
    assert bpe is not None, f"the CLIP BPE file is needed for these tests ({tried}): pip install --no-deps open_clip_torch"
    return sdxl_config.cached_config_folder(tmp_path_factory.mktemp("cache"), bpe)


def test_tokenizers_give_clips_ids(folder):
    from transformers import CLIPTokenizer

    tok = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    tok2 = CLIPTokenizer.from_pretrained(folder / "tokenizer_2")
    assert len(tok) == 49408
    # "a photo of a cat" in CLIP: <|startoftext|> a photo of a cat <|endoftext|>
    assert tok("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert tok2("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    padded = tok("", padding="max_length", max_length=77).input_ids
    padded2 = tok2("", padding="max_length", max_length=77).input_ids
    assert padded[:2] == [49406, 49407] and set(padded[2:]) == {49407}  # SDXL's first tokenizer pads with EOT
    assert padded2[:2] == [49406, 49407] and set(padded2[2:]) == {0}  # the second pads with "!" (id 0)


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_configs_build_sdxl_base_on_the_meta_device(folder):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    index = json.loads((folder / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionXLPipeline"
    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder, subfolder="unet"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder, subfolder="vae"))
        te1 = CLIPTextModel(CLIPTextConfig.from_pretrained(folder / "text_encoder"))
        te2 = CLIPTextModelWithProjection(CLIPTextConfig.from_pretrained(folder / "text_encoder_2"))
    # SDXL 1.0 base's published sizes
    assert _count(unet) == 2_567_463_684
    assert _count(vae) == 83_653_863
    assert _count(te1) == 123_060_480
    assert _count(te2) == 694_659_840
    assert sum(name.endswith("attn1") for name, _ in unet.named_modules()) == 70


def test_a_lone_checkpoint_uses_the_built_folder(folder, tmp_path, monkeypatch):
    from diffusers import StableDiffusionXLPipeline

    monkeypatch.delenv("DEDIT_MODEL_CONFIG", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    calls = []

    def spy(cls, path, **kwargs):
        calls.append((path, kwargs))
        raise RuntimeError("stop here: the weights are not the point")

    monkeypatch.setattr(StableDiffusionXLPipeline, "from_single_file", classmethod(spy))
    ckpt = tmp_path / "sd_xl_base_1.0.safetensors"
    ckpt.write_bytes(b"weights")
    with pytest.raises(DeditError):
        load_model(sdxl_options(model=str(ckpt), cache_dir=folder.parent))
    ((path, kwargs),) = calls
    assert path == str(ckpt) and kwargs["local_files_only"] is True
    assert kwargs["config"] == str(folder)  # the folder built once, found again in the same cache


def test_without_any_bpe_file_the_error_names_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("DEDIT_CLIP_BPE", str(tmp_path / "missing.txt.gz"))
    monkeypatch.delenv("DEDIT_MODEL_CONFIG", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    ckpt = tmp_path / "model.safetensors"
    ckpt.write_bytes(b"weights")
    with pytest.raises(DeditError, match="DEDIT_CLIP_BPE"):
        load_model(sdxl_options(model=str(ckpt), cache_dir=tmp_path / "cache"))


def test_a_folder_written_this_way_serves_diffusers_single_file_loader(tmp_path):
    """The writer's layout end to end: a tiny model's configs written by the same code, then a
    single-file checkpoint of that model loads through from_single_file with every weight equal."""
    from diffusers import StableDiffusionXLPipeline

    from sdxl_tiny import build_tiny_sdxl, write_ldm_checkpoint

    tiny = StableDiffusionXLPipeline.from_pretrained(build_tiny_sdxl(tmp_path / "tiny"), local_files_only=True)
    bpe, _ = sdxl_config.find_clip_bpe()
    strip = lambda cfg: {k: v for k, v in dict(cfg).items() if not k.startswith("_")}  # noqa: E731
    folder = sdxl_config.write_config_folder(
        tmp_path / "config", bpe, unet=strip(tiny.unet.config), vae=strip(tiny.vae.config),
        text=tiny.text_encoder.config.to_dict(), text_2=tiny.text_encoder_2.config.to_dict(),
    )
    ckpt = write_ldm_checkpoint(tiny, tmp_path / "tiny.safetensors")
    single = StableDiffusionXLPipeline.from_single_file(str(ckpt), config=str(folder), local_files_only=True)
    for name in ("unet", "vae", "text_encoder", "text_encoder_2"):
        a, b = getattr(single, name).state_dict(), getattr(tiny, name).state_dict()
        assert a.keys() == b.keys(), name
        assert all(torch.equal(a[k], b[k]) for k in a), name
    assert single.tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert single.tokenizer_2.pad_token == "!"
