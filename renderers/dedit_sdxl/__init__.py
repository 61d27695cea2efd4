"""The SDXL renderer: executes DesignEdit plans on a Stable Diffusion XL model with diffusers.

The only package of the project that imports torch, diffusers and transformers.
Modules: `loading` (find and load a model, never downloading), `attention`
(key-masking self-attention processor), `inversion` (DDIM inversion and its
cache), `interpreter` (the plan, step by step), `renderer` (SDXLRenderer).
"""

from .renderer import SDXLRenderer

__all__ = ["SDXLRenderer"]
