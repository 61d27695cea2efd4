"""What the UNet is conditioned on and stepped by: the prompt's embeddings (kept per prompt), SDXL's
micro-conditioning, the DDIM scheduler a plan names; and a warning for a prompt the encoders cut short."""

from __future__ import annotations

from typing import Optional

import torch

from designedit.errors import DeditError
from designedit.plan import Plan

from .loading import LoadedModel


class Conditioning:
    def __init__(self, model: LoadedModel) -> None:
        self.model = model
        self._embeds: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._prompt_notes: dict[str, Optional[str]] = {}  # prompt -> its warning (None: it fits)

    def embeddings(self, plan: Plan) -> dict[str, torch.Tensor]:
        """{"cond", "pooled", "time_ids"} for the plan's prompt at its render size."""
        return self.embeddings_for(plan.prompt, plan.render.width, plan.render.height)

    def embeddings_for(self, prompt: str, w: int, h: int) -> dict[str, torch.Tensor]:
        """{"cond", "pooled", "time_ids"} for `prompt` at a render size of w x h pixels."""
        model = self.model
        if prompt not in self._embeds:
            with torch.inference_mode():
                cond, _, pooled, _ = model.pipe.encode_prompt(
                    prompt, device=model.device, num_images_per_prompt=1, do_classifier_free_guidance=False
                )
            self._embeds[prompt] = (cond.to(model.dtype), pooled.to(model.dtype))
        cond, pooled = self._embeds[prompt]
        # SDXL micro-conditioning: original size, crop top-left, target size
        time_ids = torch.tensor([[h, w, 0, 0, h, w]], dtype=model.dtype, device=model.device)
        return {"cond": cond, "pooled": pooled, "time_ids": time_ids}

    def prompt_too_long(self, prompt: str) -> Optional[str]:
        """A sentence when the text encoders cut the prompt short (CLIP reads model_max_length tokens, its
        start and end markers included), else None; once per prompt, like its embeddings."""
        if prompt not in self._prompt_notes:
            tokenizer = self.model.pipe.tokenizer
            limit = int(tokenizer.model_max_length)
            n = len(tokenizer(prompt, truncation=False, verbose=False).input_ids)
            self._prompt_notes[prompt] = None if n <= limit else (
                f"the prompt is {n - 2} tokens long; the text encoders read only the first {limit - 2}, the rest is ignored")
        return self._prompt_notes[prompt]


def ddim_scheduler(model: LoadedModel, plan: Plan):
    """The model's scheduler config with the plan's DDIM settings, set to the plan's steps; DeditError when
    its timesteps are not the plan's."""
    from diffusers import DDIMScheduler

    base = dict(model.pipe.scheduler.config)
    scheduler = DDIMScheduler.from_config({**base, **plan.scheduler})
    scheduler.set_timesteps(plan.steps)
    got = [int(t) for t in scheduler.timesteps]
    want = [s.timestep for s in plan.plan_steps]
    if got[: len(want)] != want or len(want) != plan.steps:
        raise DeditError(f"the plan's timesteps ({want[:3]}...) are not what the DDIM scheduler gives ({got[:3]}...).")
    return scheduler
