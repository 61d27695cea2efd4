"""SDXL 1.0 base's component configs, and a local diffusers config folder built from them.

diffusers' single-file loader needs a diffusers folder of configs and
tokenizers beside a lone `.safetensors` checkpoint. Rather than fetch one, we
write it: the configs below are the published ones (the fields that differ
from the classes' defaults), and the CLIP tokenizers are built from the CLIP
BPE merges file, which the `open_clip_torch` package ships
(`open_clip/bpe_simple_vocab_16e6.txt.gz`; read as a file, the package is
never imported) or which $DEDIT_CLIP_BPE names.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

# stabilityai/stable-diffusion-xl-base-1.0, unet/config.json
SDXL_UNET = dict(
    sample_size=128,
    in_channels=4,
    out_channels=4,
    down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    block_out_channels=[320, 640, 1280],
    layers_per_block=2,
    transformer_layers_per_block=[1, 2, 10],
    attention_head_dim=[5, 10, 20],
    cross_attention_dim=2048,
    use_linear_projection=True,
    addition_embed_type="text_time",
    addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816,
    norm_num_groups=32,
    flip_sin_to_cos=True,
    freq_shift=0,
)
# vae/config.json
SDXL_VAE = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    block_out_channels=[128, 256, 512, 512],
    layers_per_block=2,
    latent_channels=4,
    norm_num_groups=32,
    sample_size=1024,
    scaling_factor=0.13025,
    force_upcast=True,
)
# text_encoder/config.json (CLIP ViT-L/14 text tower) and text_encoder_2/config.json (OpenCLIP bigG)
_TEXT_IDS = dict(bos_token_id=0, eos_token_id=2, pad_token_id=1)
SDXL_TEXT = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                 num_hidden_layers=12, max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768,
                 **_TEXT_IDS)
SDXL_TEXT_2 = dict(vocab_size=49408, hidden_size=1280, intermediate_size=5120, num_attention_heads=20,
                   num_hidden_layers=32, max_position_embeddings=77, hidden_act="gelu", projection_dim=1280,
                   **_TEXT_IDS)
# scheduler/scheduler_config.json, with the method's DDIM settings (the renderer sets them anyway)
SDXL_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                      set_alpha_to_one=False, steps_offset=1, timestep_spacing="leading")

_MODEL_INDEX = {
    "_class_name": "StableDiffusionXLPipeline",
    "force_zeros_for_empty_prompt": True,
    "scheduler": ["diffusers", "DDIMScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "tokenizer_2": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}

BPE_NAME = "bpe_simple_vocab_16e6.txt.gz"
# CLIP's vocabulary: 256 byte symbols, the same with the end-of-word mark, the merges, two specials
_N_MERGES = 49152 - 256 - 2
LAYOUT_VERSION = "1"


def find_clip_bpe() -> tuple[Optional[Path], str]:
    """(path of the CLIP BPE merges file, what was tried), without importing anything heavy."""
    named = os.environ.get("DEDIT_CLIP_BPE")
    if named:
        path = Path(named).expanduser()
        return (path if path.is_file() else None), f"$DEDIT_CLIP_BPE={named}"
    spec = importlib.util.find_spec("open_clip")  # locates the package without running it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / BPE_NAME
        if path.is_file():
            return path, f"open_clip's {BPE_NAME}"
    return None, f"$DEDIT_CLIP_BPE (unset) and open_clip's {BPE_NAME} (package not installed)"


def _bytes_to_unicode() -> list[str]:
    """CLIP's printable stand-ins for the 256 byte values, in vocabulary order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    symbols = [chr(b) for b in printable]
    extra = 0
    for b in range(256):
        if b not in printable:
            symbols.append(chr(256 + extra))
            extra += 1
    return symbols


def clip_vocabulary(bpe_file: Path) -> tuple[dict[str, int], list[str]]:
    """(token -> id, merges) of CLIP's tokenizer, from its gzipped BPE merges file."""
    lines = gzip.open(bpe_file, "rt", encoding="utf-8").read().split("\n")
    merges = lines[1 : _N_MERGES + 1]  # the first line is a version header
    if len(merges) != _N_MERGES or any(len(m.split(" ")) != 2 for m in merges):
        raise ValueError(f"{bpe_file} is not CLIP's BPE merges file")
    symbols = _bytes_to_unicode()
    tokens = symbols + [s + "</w>" for s in symbols] + [m.replace(" ", "") for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, merges


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _write_tokenizer(folder: Path, vocab: dict[str, int], merges: list[str], pad: str) -> None:
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "vocab.json", vocab)
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77, pad_token=pad).save_pretrained(folder)


def write_config_folder(
    folder: Path,
    bpe_file: Path,
    unet: dict = SDXL_UNET,
    vae: dict = SDXL_VAE,
    text: dict = SDXL_TEXT,
    text_2: dict = SDXL_TEXT_2,
) -> Path:
    """Write a diffusers SDXL config folder (no weights) into `folder`: SDXL base's, unless
    other component configs are given (the tests write a tiny model's through the same code)."""
    from transformers import CLIPTextConfig

    vocab, merges = clip_vocabulary(bpe_file)
    _write_json(folder / "model_index.json", _MODEL_INDEX)
    _write_json(folder / "unet" / "config.json", {**unet, "_class_name": "UNet2DConditionModel"})
    _write_json(folder / "vae" / "config.json", {**vae, "_class_name": "AutoencoderKL"})
    _write_json(folder / "scheduler" / "scheduler_config.json", {"_class_name": "DDIMScheduler", **SDXL_SCHEDULER})
    CLIPTextConfig(**{**text, "architectures": ["CLIPTextModel"]}).save_pretrained(folder / "text_encoder")
    CLIPTextConfig(**{**text_2, "architectures": ["CLIPTextModelWithProjection"]}).save_pretrained(folder / "text_encoder_2")
    _write_tokenizer(folder / "tokenizer", vocab, merges, pad="<|endoftext|>")
    _write_tokenizer(folder / "tokenizer_2", vocab, merges, pad="!")
    return folder


def cached_config_folder(cache_root: Path, bpe_file: Path) -> Path:
    """The config folder under `cache_root`, written once (atomically: a finished folder is renamed in)."""
    digest = hashlib.sha256(bpe_file.read_bytes()).hexdigest()[:12]
    target = cache_root / f"sdxl-base-config-v{LAYOUT_VERSION}-{digest}"
    if (target / "model_index.json").is_file():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sdxl-config-", dir=cache_root))
    try:
        write_config_folder(tmp, bpe_file)
        os.replace(tmp, target)
    except OSError:
        if not (target / "model_index.json").is_file():  # not just another process winning the race
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
