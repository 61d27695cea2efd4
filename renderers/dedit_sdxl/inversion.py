"""DDIM inversion (method 2); `stores.TrajectoryStore` keeps the trajectories.

The standard "next step" update, walking the scheduler's timesteps from the
last (least noisy) to the first: at timestep t the UNet sees the current
latent, and

    x0  = (z - sqrt(1 - a_prev) * eps) / sqrt(a_prev)
    z'  = sqrt(a_t) * x0 + sqrt(1 - a_t) * eps

where a_prev is the cumulative alpha one step before t (the final alpha when
that is below 0). The whole trajectory z*_0 .. z*_T is returned.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch

Predict = Callable[[torch.Tensor, int], torch.Tensor]  # (latents, timestep) -> eps, batch-wise


def invert(predict: Predict, z0: torch.Tensor, scheduler, timesteps: list[int], limit: Optional[int] = None) -> torch.Tensor:
    """(T+1, B, C, h, w) trajectories of a batch of clean latents z0 (B, C, h, w), float32; `limit`: stop after
    that many steps (the least noisy ones; attention maps need no more), the trajectory then shorter."""
    # the scheduler's own float32 alphas, as diffusers' DDIM step (and the authors' inversion) use them
    alphas = scheduler.alphas_cumprod.float()
    final = torch.as_tensor(scheduler.final_alpha_cumprod, dtype=torch.float32)
    stride = scheduler.config.num_train_timesteps // len(timesteps)
    z = z0.float()
    trajectory = [z]
    for t in list(reversed(timesteps))[:limit]:
        prev = t - stride
        a_prev = alphas[prev] if prev >= 0 else final
        a_t = alphas[t]
        eps = predict(z, t).float()
        x0 = (z - (1 - a_prev) ** 0.5 * eps) / a_prev**0.5
        z = a_t**0.5 * x0 + (1 - a_t) ** 0.5 * eps
        trajectory.append(z)
    return torch.stack(trajectory)
