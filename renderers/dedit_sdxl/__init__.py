"""The SDXL renderer: executes DesignEdit plans on a Stable Diffusion XL model with diffusers.

The only package of the project that imports torch, diffusers and transformers,
and only when `SDXLRenderer` is first used: importing this package is cheap, so
`preflight` (from `locate`, torch-free) can say at once that there is no model,
that it is not where it is said to be, or that torch is not installed.
Modules: `locate` (where the model is, without torch), `loading` (load it,
never downloading), `attention` (key-masking self-attention processor),
`inversion` (DDIM inversion and its cache), `interpreter` (the plan, step by
step), `renderer` (SDXLRenderer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .locate import preflight

if TYPE_CHECKING:
    from .renderer import SDXLRenderer

__all__ = ["SDXLRenderer", "preflight"]


def __getattr__(name: str) -> Any:
    if name == "SDXLRenderer":  # the entry point `dedit_sdxl:SDXLRenderer` lands here: torch is imported now
        from .renderer import SDXLRenderer

        return SDXLRenderer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
