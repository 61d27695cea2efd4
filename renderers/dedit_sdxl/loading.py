"""Finding and loading an SDXL model without ever downloading anything.

A model is named by `--model` (SDXLOptions.model) or $DEDIT_MODEL and may be
- a diffusers SDXL folder (it holds model_index.json),
- a hub id ("org/name") already in the local Hugging Face cache,
- a single `.safetensors` checkpoint in the original SDXL layout, read by
  diffusers' single-file loader with a local diffusers folder as its config
  (SDXLOptions.model_config, $DEDIT_MODEL_CONFIG, the SDXL base hub id
  if it is in the local cache, else SDXL base's published configs written by
  `sdxl_config` into the dedit cache, tokenizers built from a CLIP BPE file).
Every attempt passes local_files_only, so a missing model is a DeditError
naming what was tried, never a download. Where the model is (and whether it
is there at all) is decided by the torch-free `locate`, which the CLI runs
before this module is ever imported.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from designedit.rendering.cache import default_cache_dir
from designedit.errors import DeditError
from designedit.rendering.protocol import RenderOptions

from . import sdxl_config
from .locate import hub_snapshot, locate
from .options import MODEL_ENV, SDXLOptions, model_spec

SDXL_BASE_ID = "stabilityai/stable-diffusion-xl-base-1.0"
DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


@dataclass
class LoadedModel:
    pipe: object  # StableDiffusionXLPipeline (components only; its __call__ is not used)
    identity: str  # what the inversion cache keys on: where the weights came from, and their version
    device: torch.device
    dtype: torch.dtype
    vae_dtype: torch.dtype  # fp32 when fp16 would overflow (diffusers' force_upcast)


def pick_device(name: str = "auto") -> torch.device:
    if name and name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(name: Optional[str], device: torch.device) -> torch.dtype:
    if name:
        if name not in DTYPES:
            raise DeditError(f"unknown dtype {name!r}: use one of fp16, bf16, fp32.")
        return DTYPES[name]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


def _file_identity(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{int(st.st_mtime)}"


def _folder_identity(folder: Path) -> str:
    """The folder plus size and mtime of each weight file: a retrained model gets a new identity."""
    parts = [str(folder.resolve())]
    for f in sorted(folder.glob("*/*.safetensors")) + sorted(folder.glob("*/*.bin")):
        parts.append(f"{f.parent.name}/{f.name}:{f.stat().st_size}:{int(f.stat().st_mtime)}")
    return "|".join(parts)


def _config_folder(options: RenderOptions, checkpoint: Path) -> tuple[Path, bool]:
    """(diffusers config folder for a single-file checkpoint, whether SDXL base's configs were assumed because
    none was named); DeditError (one sentence, suggesting only what applies) when there is none."""
    given = options.of(SDXLOptions).model_config
    named, source = (given, "--model-config") if given else (os.environ.get("DEDIT_MODEL_CONFIG"), "$DEDIT_MODEL_CONFIG")
    if named:
        folder = Path(named).expanduser()
        if (folder / "model_index.json").is_file():
            return folder, False
        snap = hub_snapshot(str(named))
        if snap is not None:
            return snap, False
        what = "has no model_index.json" if folder.is_dir() else "does not exist"
        raise DeditError(
            f"the {source} {named} given for the single-file checkpoint {checkpoint} is not a diffusers SDXL folder "
            f"(it {what}) nor a hub id in the local Hugging Face cache; point {source} at a diffusers folder of the "
            "checkpoint's architecture."
        )
    snap = hub_snapshot(SDXL_BASE_ID)
    if snap is not None:
        return snap, True
    tried = f"{SDXL_BASE_ID} in the local Hugging Face cache (not there)"
    # last: write SDXL base's published configs ourselves, with tokenizers from a CLIP BPE file on this machine
    bpe, bpe_tried = sdxl_config.find_clip_bpe()
    fixes = "pass --model-config DIR (a diffusers SDXL folder) or set DEDIT_MODEL_CONFIG"
    if bpe is None:
        if os.environ.get("DEDIT_CLIP_BPE"):
            fixes += f", or point $DEDIT_CLIP_BPE at CLIP's {sdxl_config.BPE_NAME}"
        else:
            fixes += ", or install open_clip_torch (its CLIP vocabulary builds the tokenizers)"
        why = f"{tried}, nor a CLIP BPE file to build SDXL base's configs with ({bpe_tried})"
    else:
        root = Path(options.cache_dir).expanduser() if options.cache_dir else default_cache_dir()
        try:
            return sdxl_config.cached_config_folder(root, bpe), True
        except (OSError, ValueError) as exc:
            why = f"{tried}, and building SDXL base's configs from {bpe} failed ({exc})"
    raise DeditError(
        f"the single-file checkpoint {checkpoint} needs a diffusers SDXL config folder to be read without a "
        f"download, and there is none: not {why}; {fixes}."
    )


def _quiet_libraries() -> None:
    """dedit prints its own progress and one-line errors: the libraries' loading bars and
    advisory warnings (e.g. transformers' "install torchvision") would bury them."""
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def load_model(options: RenderOptions) -> LoadedModel:
    sdxl = options.of(SDXLOptions)
    spec = model_spec(sdxl)
    if not spec:
        raise DeditError(f"no SDXL model is configured: pass --model (a diffusers folder, a cached hub id or a .safetensors file) or set {MODEL_ENV}.")
    where = locate(spec)  # before anything heavy: a missing model is one sentence
    device = pick_device(sdxl.device)
    dtype = pick_dtype(sdxl.dtype, device)
    _quiet_libraries()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)  # renamed in newer diffusers
            pipe, identity = _open(where, options, dtype)
    except DeditError:
        raise
    except Exception as exc:  # diffusers/transformers/safetensors raise many types for unreadable weights
        raise DeditError(f"could not load the SDXL model {spec!r}: {_first_line(exc)}.") from exc

    _check_sdxl(pipe, spec)
    vae_dtype = dtype
    if dtype == torch.float16 and getattr(pipe.vae.config, "force_upcast", False):
        vae_dtype = torch.float32  # SDXL's VAE overflows in fp16, as diffusers' pipeline knows
        pipe.vae.to(torch.float32)
    if sdxl.offload and device.type != "cpu":
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    for module in (pipe.unet, pipe.vae, pipe.text_encoder, pipe.text_encoder_2):
        module.requires_grad_(False)
        module.eval()
    return LoadedModel(pipe, identity, device, dtype, vae_dtype)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__


def ignored_config_warning(options: RenderOptions, where) -> Optional[str]:
    """A sentence when --model-config was given for a model that carries its own configs (a folder, a hub id)."""
    given = options.of(SDXLOptions).model_config
    if not given or where is None or where.kind == "file":
        return None
    return (f"--model-config {given} is ignored: it applies to a single .safetensors --model only, and "
            f"{'the diffusers folder' if where.kind == 'folder' else 'the hub id'} {where.spec} carries its own configs")


def _open(where, options: RenderOptions, dtype: torch.dtype):
    """(pipeline, identity) for the model `locate` found; raises DeditError or the loaders' own errors."""
    from diffusers import StableDiffusionXLPipeline

    path = where.path
    if where.kind == "file":
        config, assumed = _config_folder(options, path)
        try:
            pipe = StableDiffusionXLPipeline.from_single_file(
                str(path), config=str(config), torch_dtype=dtype, local_files_only=True
            )
        except Exception as exc:  # noqa: BLE001 - the loader raises many types for a checkpoint of another shape
            if not assumed:
                raise
            raise DeditError(
                f"could not load the SDXL model {where.spec!r}: {_first_line(exc)}; no --model-config (nor "
                "$DEDIT_MODEL_CONFIG) was given, so SDXL base's published configs were assumed: pass "
                "--model-config DIR, a diffusers folder of the checkpoint's architecture."
            ) from exc
        return pipe, _file_identity(path)
    pipe = StableDiffusionXLPipeline.from_pretrained(str(path), torch_dtype=dtype, local_files_only=True)
    if where.kind == "hub":
        return pipe, where.label
    return pipe, _folder_identity(path)


def _check_sdxl(pipe, spec: str) -> None:
    unet = pipe.unet
    if getattr(unet.config, "addition_embed_type", None) != "text_time" or pipe.text_encoder_2 is None:
        raise DeditError(f"model {spec!r} is not an SDXL model (its UNet has no text_time conditioning).")
