"""The SDXL renderer's options, the flags that set them, and where its model comes from: no torch.

`SDXLOptions` travels typed in `RenderOptions.renderer_options` (`options.of(SDXLOptions)`);
`add_arguments` and `options_from_args` are its command-line hook (dedit render and watch), used by
`plugin`. A model is *configured* with --model or $DEDIT_MODEL, or *found*: SDXL base already in the
local Hugging Face cache. Finding is a look at the cache folders, without huggingface_hub, so
`--renderer auto` on a machine without a model starts the preview at once.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Optional

from designedit.errors import DeditError
from designedit.rendering.protocol import RenderOptions

MODEL_ENV = "DEDIT_MODEL"
# Hub ids `auto` looks for in the local Hugging Face cache when no model is configured.
FINDABLE_MODELS = ("stabilityai/stable-diffusion-xl-base-1.0",)
COMPILE_MODES = ("blocks", "unet")


@dataclass(frozen=True)
class SDXLOptions:
    """How the SDXL renderer runs; the defaults are the command line's."""

    model: Optional[str] = None  # a diffusers folder, a hub id in the local cache or a .safetensors file
    device: str = "auto"  # auto (cuda, else mps, else cpu), cuda, mps, cpu
    dtype: Optional[str] = None  # fp16 | bf16 | fp32 (None: by device)
    offload: bool = False  # model CPU offload
    model_config: Optional[str] = None  # configs for a single-file --model: a diffusers folder or a hub id
    cuda_graphs: Optional[bool] = None  # None: on for CUDA without offload
    compile: Optional[str] = None  # torch.compile the UNet: "blocks" or "unet" (None: off)
    fuse_projections: Optional[bool] = None  # fused self-attention q/k/v (None: on CUDA)
    cache: bool = True  # the on-disk inversion cache (False: none, for benchmarks and tests)
    reuse_branches: bool = True  # resume from a remembered branch state when only the fusion changed


def sdxl_options(**given: Any) -> RenderOptions:
    """RenderOptions for an SDXLRenderer built directly (scripts, benchmarks, tests): the keywords that
    are RenderOptions fields go there, the rest to SDXLOptions."""
    core = {f.name for f in fields(RenderOptions)}
    own = SDXLOptions(**{k: v for k, v in given.items() if k not in core})
    return RenderOptions(**{k: v for k, v in given.items() if k in core}).with_renderer_options(own)


def model_spec(options: SDXLOptions) -> Optional[str]:
    """The model as the user named it: --model (`options.model`), else $DEDIT_MODEL; None when neither."""
    return options.model or os.environ.get(MODEL_ENV) or None


def model_source(spec: str) -> str:
    """Where the configured model `spec` was named, for the line that explains the renderer's choice."""
    return f"{MODEL_ENV}={spec}" if os.environ.get(MODEL_ENV) == spec else f"--model {spec}"


def no_model_error() -> DeditError:
    """`--renderer sdxl` with no model configured and none in the local Hugging Face cache."""
    return DeditError(
        f"the SDXL renderer needs a model and none is configured or found in {hub_cache_dir()}; "
        f"pass --model or set {MODEL_ENV}, or use --renderer preview."
    )


def hub_cache_dir() -> Path:
    """Where huggingface_hub keeps downloads, by its own environment variables."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "huggingface" / "hub"


def find_cached_model() -> Optional[str]:
    """The first FINDABLE_MODELS hub id with a complete-looking snapshot in the local cache."""
    cache = hub_cache_dir()
    for repo_id in FINDABLE_MODELS:
        snapshots = cache / f"models--{repo_id.replace('/', '--')}" / "snapshots"
        try:
            if any((snap / "model_index.json").is_file() for snap in snapshots.iterdir()):
                return repo_id
        except OSError:
            continue
    return None


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """The SDXL renderer's flags (`options_from_args` reads them)."""
    group.add_argument("--model", metavar="M", help="SDXL model: a diffusers folder, a hub id in the local Hugging Face "
                       "cache, or a .safetensors file (default: $DEDIT_MODEL)")
    group.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], default="auto",
                       help="where the SDXL renderer runs (default: auto, which is cuda, else mps, else cpu)")
    group.add_argument("--dtype", choices=["fp16", "bf16", "fp32"],
                       help="SDXL number format (default: bf16 on CUDA GPUs that support it, else fp16 on GPUs, fp32 on CPU)")
    group.add_argument("--offload", action="store_true", help="model CPU offload (less GPU memory, slower)")
    group.add_argument("--model-config", type=Path, metavar="DIR", help="diffusers SDXL folder whose configs and tokenizers read a single .safetensors --model, of the "
                       "checkpoint's architecture (default: $DEDIT_MODEL_CONFIG, else SDXL base from the local Hugging Face "
                       "cache, else SDXL base's published configs with tokenizers from open_clip_torch's CLIP vocabulary); "
                       "a --model folder or hub id has its own configs: then it is ignored, with a warning")
    group.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=None,
                       help="replay UNet calls from CUDA graphs (default: on for CUDA without --offload)")
    group.add_argument("--compile", choices=COMPILE_MODES, metavar="WHAT",
                       help="run the UNet through torch.compile: blocks (its transformer blocks) or unet (all of it "
                       "as one graph, the most fusion); each new picture size and batch is compiled on first use "
                       "(unet: minutes on a GPU; PyTorch keeps the kernels in its disk cache), so it is meant for "
                       "watch and series of renders (default: off)")


def options_from_args(args: argparse.Namespace) -> SDXLOptions:
    return SDXLOptions(
        model=args.model,
        device=args.device,
        dtype=args.dtype,
        offload=args.offload,
        model_config=str(args.model_config) if args.model_config else None,
        cuda_graphs=args.cuda_graphs,
        compile=args.compile,
    )
