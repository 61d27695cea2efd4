"""The model's VAE: RGB pictures to scaled latents and back (tiled for large renders)."""

from __future__ import annotations

import numpy as np
import torch

from .loading import LoadedModel

TILING_PIXELS = 1536 * 1536  # decode larger renders tile by tile


class VAE:
    def __init__(self, model: LoadedModel) -> None:
        self.model = model

    def encode(self, pixels: np.ndarray) -> torch.Tensor:
        """(1, 4, h/8, w/8) float32 latents (the distribution's mean, scaled) of an (h, w, 3) uint8 picture."""
        model = self.model
        vae = model.pipe.vae
        x = torch.from_numpy(np.array(pixels, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 127.5 - 1.0
        x = x.to(model.device, model.vae_dtype)
        return (vae.encode(x).latent_dist.mean * vae.config.scaling_factor).float()

    def decode(self, z: torch.Tensor) -> np.ndarray:
        """The (h, w, 3) uint8 picture of one latent (1, 4, h/8, w/8)."""
        model = self.model
        vae = model.pipe.vae
        scale = int(model.pipe.vae_scale_factor)
        if z.shape[-2] * scale * z.shape[-1] * scale > TILING_PIXELS:
            vae.enable_tiling()
        else:
            vae.disable_tiling()
        x = vae.decode((z / vae.config.scaling_factor).to(model.device, model.vae_dtype), return_dict=False)[0]
        x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return x[0].permute(1, 2, 0).cpu().numpy()
