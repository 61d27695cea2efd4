"""The DDIM settings every plan is computed with, and the timesteps they give."""

from __future__ import annotations

from typing import Any

# The method's DDIM settings (method.md 1): the authors build DDIMScheduler(these) and hand it to the
# pipeline, so diffusers' defaults hold for the rest: steps_offset 0 and "leading" spacing, t = 980 .. 0
# at 50 steps. (SDXL's own scheduler config says steps_offset 1, t = 981 .. 1; a model's config is
# overridden by these, whatever it says.)
DDIM_SETTINGS: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 0,
    "timestep_spacing": "leading",
}


def ddim_timesteps(steps: int, settings: dict[str, Any] = DDIM_SETTINGS) -> list[int]:
    """The timesteps diffusers' DDIMScheduler uses for `steps` steps, noisiest first."""
    n = settings["num_train_timesteps"]
    if settings.get("timestep_spacing", "leading") != "leading":
        raise ValueError("only 'leading' timestep spacing is planned for")
    ratio = n // steps
    return [s * ratio + settings["steps_offset"] for s in reversed(range(steps))]
