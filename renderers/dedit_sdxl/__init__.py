"""The SDXL renderer: executes DesignEdit plans on a Stable Diffusion XL model with diffusers.

The only package of the project that imports torch, diffusers and transformers,
and only when `SDXLRenderer` is first used: importing this package is cheap, so
the core can read `plugin` (its options, flags and rank for `--renderer auto`)
and `preflight` (from `locate`) can say at once that there is no model, that it
is not where it is said to be, or that torch is not installed.

Modules, torch-free: `options` (SDXLOptions, the flags, where the model comes
from), `plugin` (what the core asks before loading the renderer), `locate`
(where the model is), `sdxl_config` (SDXL base's configs). With torch:
`loading` (load the model, never downloading), `attention` (key-masking
self-attention processor), `unet` (the UNet call: compile, CUDA graphs,
offload), `graphs` (CUDA graph captures), `inversion` (DDIM inversion),
`stores` (trajectories and branch states, in memory and on disk), `vae`,
`conditioning` (prompt embeddings, scheduler), `interpreter` (the plan),
`compose` (pixels at the canvas, the layers), `ticks` (progress), `renderer`
(SDXLRenderer, whose `render()` reads as its steps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .options import SDXLOptions, sdxl_options
from .plugin import plugin

if TYPE_CHECKING:
    from .locate import preflight
    from .renderer import SDXLRenderer

__all__ = ["SDXLOptions", "SDXLRenderer", "plugin", "preflight", "sdxl_options"]


def __getattr__(name: str) -> Any:
    if name == "preflight":
        from .locate import preflight

        return preflight
    if name == "SDXLRenderer":  # the entry point `dedit_sdxl:SDXLRenderer` lands here: torch is imported now
        from .renderer import SDXLRenderer

        return SDXLRenderer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
