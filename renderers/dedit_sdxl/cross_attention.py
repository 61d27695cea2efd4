"""Where a prompt word draws the UNet's cross-attention (format 1.3's `attention` mask shape).

`CrossAttentionRecorder` is a diffusers-style attention processor for the cross-attention layers (attn2): it
computes softmax(Q K^T / sqrt(d)) explicitly, returns the same output as the stock processor (probabilities
times V), and adds the probabilities of the word's tokens, averaged over heads (and summed over the word's
tokens), to a running sum per layer resolution. `derive_map` inverts a picture with the prompt for the first
half of the DDIM steps with the recorders installed and returns the map of the lowest resolution (SDXL at
1024 px: the 32x32 maps of down_blocks.2, the mid block and up_blocks.0), averaged over those layers and
steps and normalised to [0, 1]. spec/format.md 5.4 says why these layers and steps.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F

from designedit.errors import DeditError
from designedit.rendering.protocol import MaskRequest

from .attention import _grid_for, split_heads


class MapSums:
    """Running sums of one request's maps, by the number of positions of the layer (its resolution)."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = tokens  # indices of the word's tokens in the prompt's token sequence
        self.sums: dict[int, torch.Tensor] = {}  # seq_len -> (B, seq_len) float32
        self.counts: dict[int, int] = {}
        self.recording = True

    def add(self, probs: torch.Tensor) -> None:
        """`probs` (B, heads, seq_len, tokens): the word's tokens summed, heads averaged."""
        if not self.recording:
            return
        word = probs[..., self.tokens].sum(-1).mean(1).float()  # (B, seq_len)
        n = word.shape[-1]
        self.sums[n] = self.sums[n] + word if n in self.sums else word.clone()
        self.counts[n] = self.counts.get(n, 0) + 1

    def lowest(self) -> tuple[int, torch.Tensor]:
        """(seq_len, mean map) of the lowest resolution recorded."""
        if not self.sums:
            raise DeditError("the UNet ran no cross-attention, so no attention map could be recorded.")
        n = min(self.sums)
        return n, self.sums[n] / self.counts[n]


def attention_probs(attn, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(probabilities (B, heads, n, tokens), values (B, heads, tokens, d)) of one cross-attention layer."""
    batch = hidden_states.shape[0]
    query = attn.to_q(hidden_states)
    context = encoder_hidden_states
    if attn.norm_cross:
        context = attn.norm_encoder_hidden_states(context)
    key, value = attn.to_k(context), attn.to_v(context)
    query, key, value = split_heads(attn, batch, query, key, value)
    logits = torch.matmul(query.float(), key.float().transpose(-1, -2)) * attn.scale
    return logits.softmax(-1), value


class CrossAttentionRecorder:
    """Cross-attention that also records the word's attention probabilities into `sums`."""

    def __init__(self, sums: MapSums) -> None:
        self.sums = sums

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        if encoder_hidden_states is None or attention_mask is not None or attn.spatial_norm is not None or attn.group_norm is not None or hidden_states.ndim != 3:
            raise DeditError("this UNet's cross-attention is not SDXL's (a mask, a normalisation or a 4-d input); attention masks support SDXL-style cross-attention only.")
        residual = hidden_states
        probs, value = attention_probs(attn, hidden_states, encoder_hidden_states)
        self.sums.add(probs)
        batch = hidden_states.shape[0]
        out = torch.matmul(probs.to(value.dtype), value).transpose(1, 2).reshape(batch, -1, value.shape[1] * value.shape[-1])
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


@contextmanager
def recording(unet, sums: MapSums) -> Iterator[None]:
    """The recorder on every cross-attention (attn2) of `unet` for the block; its processors restored after."""
    before = dict(unet.attn_processors)
    recorder = CrossAttentionRecorder(sums)
    unet.set_attn_processor({name: recorder if name.endswith("attn2.processor") else proc for name, proc in before.items()})
    try:
        yield
    finally:
        unet.set_attn_processor(before)


def word_tokens(tokenizer, prompt: str, word: str) -> list[int]:
    """Positions of `word`'s tokens in the prompt's token sequence (every occurrence), as the text encoder
    reads it (start marker first, cut at its length)."""
    ids = tokenizer(prompt, truncation=True, max_length=int(tokenizer.model_max_length)).input_ids
    wanted = tokenizer(word, add_special_tokens=False).input_ids
    found = [i + j for i in range(len(ids) - len(wanted) + 1) if ids[i : i + len(wanted)] == wanted for j in range(len(wanted))]
    if not wanted or not found:
        raise DeditError(f"the text encoder does not read {word!r} in the prompt (its tokens differ there, or the prompt is "
                         "cut before it), so no attention to it can be recorded.")
    return found


def recorded_steps(steps: int) -> int:
    """How many inversion steps are recorded: the first half (at least one)."""
    return max(1, math.ceil(steps / 2))


def normalised(grid: torch.Tensor) -> np.ndarray:
    """A map scaled to [0, 1] (min to max); a flat map (the word attended the same everywhere) is all zeros."""
    grid = grid.float()
    low, high = grid.min(), grid.max()
    if float(high - low) <= 1e-12:
        return np.zeros(tuple(grid.shape), np.float32)
    return ((grid - low) / (high - low)).cpu().numpy().astype(np.float32)


def derive_map(unet, z0: torch.Tensor, embeds: dict[str, torch.Tensor], scheduler, timesteps: list[int], tokens: list[int]) -> np.ndarray:
    """The word's normalised map on the grid of the lowest-resolution cross-attention, recorded while
    inverting the clean latent `z0` (1, C, h, w) for the first half of `timesteps` (noisiest first, as planned)."""
    from .inversion import invert

    sums = MapSums(tokens)
    dtype = next(unet.parameters()).dtype

    def predict(x: torch.Tensor, t: int) -> torch.Tensor:
        added = {"text_embeds": embeds["pooled"], "time_ids": embeds["time_ids"]}
        return unet(x.to(dtype), t, encoder_hidden_states=embeds["cond"], added_cond_kwargs=added, return_dict=False)[0]

    with recording(unet, sums), torch.inference_mode():
        invert(predict, z0, scheduler, timesteps, limit=recorded_steps(len(timesteps)))
    n, mean = sums.lowest()
    h, w = _grid_for(z0.shape[-2], z0.shape[-1], n)
    return normalised(mean[0].reshape(h, w))


def picture_pixels(request: MaskRequest) -> np.ndarray:
    """The request's picture as (h, w, 3) uint8 at its inversion size (transparency over black, as a recipe
    loads it onto its frame; Pillow bicubic, as recipes resize)."""
    from PIL import Image as PILImage

    from designedit.imaging.pictures import open_picture

    im = open_picture(request.picture).convert("RGBA")
    black = PILImage.new("RGBA", im.size, (0, 0, 0, 255))
    rgb = PILImage.alpha_composite(black, im).convert("RGB")
    if rgb.size != tuple(request.size):
        rgb = rgb.resize(tuple(request.size), PILImage.BICUBIC)
    return np.asarray(rgb, dtype=np.uint8)
