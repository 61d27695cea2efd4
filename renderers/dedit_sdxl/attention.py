"""Key-masking self-attention (method 4, Eq. 1 and 4) as a diffusers attention processor.

    Attention(Q, K', V) = softmax(Q K'^T / sqrt(d)) V,   K' = W_K((1 - M) * h)

Q and V come from the unmasked input h; zeroing key *input* rows gives the
masked positions a logit of Q·b_K (0 for SDXL's bias-free keys), not minus
infinity. The interpreter puts one latent mask per batch entry (zeros for
entries that are not masked) into a `KeyMaskState` before each UNet call; the
processor resizes it bilinearly (align_corners=False, not re-binarised) to its
layer's resolution. Cross-attention, and calls with no mask at all, take the
stock scaled-dot-product path unchanged.

`fuse_self_attention` gives each self-attention one q/k/v projection (diffusers'
`Attention.fuse_projections`): one matrix product where there were three, which
is what a batch of one or two samples on a large GPU lacks (too few tiles to
fill it). Fused, the masked key is computed as (1 - M) * (W_K h) (+ b_K), the
same product: scaling an input row scales its projection.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0, FusedAttnProcessor2_0

from designedit.errors import DeditError


class KeyMaskState:
    """The current UNet call's masks, shared by every processor of one UNet.

    `levels`: how many times the UNet has halved the latent where it has self-attention (SDXL: 1 and 2).
    `set` computes the multipliers of those levels before the call, so that the UNet (compiled with
    --compile) reads a fixed set of tensors and never sees this memo change; a level not listed is
    computed when first asked for (any UNet works, a compiled one then retraces once)."""

    def __init__(self, levels: tuple[int, ...] = ()) -> None:
        self.levels = levels
        self.masks: Optional[torch.Tensor] = None  # (B, 1, h, w) float at latent resolution
        self._keep: dict[int, torch.Tensor] = {}

    def set(self, masks: Optional[torch.Tensor], dtype: Optional[torch.dtype] = None) -> None:
        """Masks for the next call, or None when no batch entry is masked; `dtype` is the UNet's."""
        self.masks = masks
        self._keep = {}
        if masks is not None and dtype is not None:
            for level in self.levels:
                h, w = masks.shape[-2:]
                for _ in range(level):
                    h, w = _halved(h, w)
                self.keep(h * w, dtype)

    def clear(self) -> None:
        self.set(None)

    def keep(self, seq_len: int, dtype: torch.dtype) -> Optional[torch.Tensor]:
        """(B, seq_len, 1) multiplier 1 - M at the resolution whose area is seq_len (memoised per call)."""
        if self.masks is None:
            return None
        if seq_len not in self._keep:
            h, w = _grid_for(self.masks.shape[-2], self.masks.shape[-1], seq_len)
            m = self.masks if (h, w) == tuple(self.masks.shape[-2:]) else F.interpolate(
                self.masks, size=(h, w), mode="bilinear", align_corners=False
            )
            self._keep[seq_len] = (1.0 - m).flatten(1).unsqueeze(-1).to(dtype)
        return self._keep[seq_len]


def attention_levels(unet) -> tuple[int, ...]:
    """The downsampling levels at which `unet` has attention (its down blocks' indices; the mid block sits
    at the last), read from the modules, so any diffusers UNet2DConditionModel layout is described."""
    levels = {i for i, block in enumerate(getattr(unet, "down_blocks", [])) if getattr(block, "attentions", None)}
    if getattr(getattr(unet, "mid_block", None), "attentions", None):
        levels.add(len(unet.down_blocks) - 1)
    return tuple(sorted(levels))


def _halved(h: int, w: int) -> tuple[int, int]:
    """One UNet downsampling: each side halved, rounding up (stride-2 convolutions with padding 1)."""
    return math.ceil(h / 2), math.ceil(w / 2)


def _grid_for(h: int, w: int, seq_len: int) -> tuple[int, int]:
    """The UNet level with h*w == seq_len: each downsampling halves a side, rounding up."""
    while h * w > seq_len:
        h, w = _halved(h, w)
    if h * w != seq_len:
        raise RuntimeError(f"no UNet level of a {h}x{w} latent has {seq_len} positions")
    return h, w


class KeyMaskingAttnProcessor:
    """Self-attention with per-sample key-input masking; the stock path otherwise."""

    def __init__(self, state: KeyMaskState) -> None:
        self.state = state
        self.stock = AttnProcessor2_0()
        self.fused_stock = FusedAttnProcessor2_0()

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        keep = None
        if encoder_hidden_states is None and hidden_states.ndim == 3:
            keep = self.state.keep(hidden_states.shape[1], hidden_states.dtype)
        if keep is None:
            stock = self.fused_stock if attn.fused_projections else self.stock
            return stock(attn, hidden_states, encoder_hidden_states, attention_mask, temb, *args, **kwargs)
        if attn.spatial_norm is not None or attn.group_norm is not None:
            # masking after a normalisation we do not replay would silently be another method
            raise DeditError("this UNet's self-attention normalises its input (group or spatial norm); key-masking supports SDXL-style self-attention only.")

        residual = hidden_states
        batch, seq_len, _ = hidden_states.shape
        if attention_mask is not None:
            attention_mask = attn.prepare_attention_mask(attention_mask, seq_len, batch)
            attention_mask = attention_mask.view(batch, attn.heads, -1, attention_mask.shape[-1])

        if attn.fused_projections:
            sizes = [attn.to_q.out_features, attn.to_k.out_features, attn.to_v.out_features]
            # one product without the biases, so the key is masked before its bias is added
            query, key, value = F.linear(hidden_states, attn.to_qkv.weight).split(sizes, dim=-1)
            key = key * keep  # (1 - M) * (W_K h) = W_K((1 - M) * h)
            if attn.to_qkv.bias is not None:
                bq, bk, bv = attn.to_qkv.bias.split(sizes)
                query, key, value = query + bq, key + bk, value + bv
        else:
            query = attn.to_q(hidden_states)
            key = attn.to_k(hidden_states * keep)  # K' = W_K((1 - M) * h)
            value = attn.to_v(hidden_states)
        query, key, value = split_heads(attn, batch, query, key, value)
        head_dim = value.shape[-1]
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask, dropout_p=0.0, is_causal=False)
        out = out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


def install(unet) -> KeyMaskState:
    """Put the key-masking processor on every self-attention (attn1) of `unet`; others keep theirs.

    A UNet that has them already keeps them, and their state is returned: two renderers over one
    pipeline then share it (each sets its masks right before its own call), instead of the second
    silently unplugging the first one's masks."""
    for proc in unet.attn_processors.values():
        if isinstance(proc, KeyMaskingAttnProcessor):
            return proc.state
    state = KeyMaskState(attention_levels(unet))
    processors = {}
    for name, proc in unet.attn_processors.items():
        processors[name] = KeyMaskingAttnProcessor(state) if name.endswith("attn1.processor") else proc
    unet.set_attn_processor(processors)
    return state


def fuse_self_attention(unet) -> int:
    """Fuse the q/k/v projections of every self-attention of `unet` not fused yet; returns how many are fused.

    diffusers keeps the separate projections beside the fused one; they are re-pointed at slices of the
    fused weight, so the UNet's memory does not grow (SDXL would hold 0.6 GB more in bf16) and code that
    reads them still sees the same numbers. Not for a model that offloading moves between devices: a
    move (`.to()`) copies each parameter on its own, and the slices would become copies that no longer
    follow the fused weight. To save the UNet, unfuse_self_attention first."""
    count = 0
    for module in _self_attentions(unet):
        if not module.fused_projections:
            module.fuse_projections()
            fused = module.to_qkv
            fused.requires_grad_(False)
            start = 0
            for part in (module.to_q, module.to_k, module.to_v):
                end = start + part.out_features
                part.weight = torch.nn.Parameter(fused.weight[start:end], requires_grad=False)
                if part.bias is not None:
                    part.bias = torch.nn.Parameter(fused.bias[start:end], requires_grad=False)
                start = end
        count += 1
    return count


def unfuse_self_attention(unet) -> int:
    """Undo fuse_self_attention: each projection gets its own weight again and the fused one goes (a
    fused UNet cannot be saved: safetensors refuses weights that share memory). Returns how many."""
    count = 0
    for module in _self_attentions(unet):
        if module.fused_projections:
            for part in (module.to_q, module.to_k, module.to_v):
                part.weight = torch.nn.Parameter(part.weight.detach().clone(), requires_grad=False)
                if part.bias is not None:
                    part.bias = torch.nn.Parameter(part.bias.detach().clone(), requires_grad=False)
            del module.to_qkv
            module.fused_projections = False
            count += 1
    return count


def fused_count(unet) -> int:
    return sum(1 for module in _self_attentions(unet) if module.fused_projections)


def _self_attentions(unet):
    for name, module in unet.named_modules():
        if isinstance(module, Attention) and name.endswith("attn1") and not module.is_cross_attention:
            yield module


def self_attention_count(unet) -> int:
    return sum(isinstance(p, KeyMaskingAttnProcessor) for p in unet.attn_processors.values())


def split_heads(attn, batch: int, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor):
    """(B, n, heads * d) projections as (B, heads, n, d), with the layer's query and key norms applied
    (diffusers' order): shared by the key-masking processor and the cross-attention recorder."""
    head_dim = key.shape[-1] // attn.heads
    query, key, value = (x.view(batch, -1, attn.heads, head_dim).transpose(1, 2) for x in (query, key, value))
    if attn.norm_q is not None:
        query = attn.norm_q(query)
    if attn.norm_k is not None:
        key = attn.norm_k(key)
    return query, key, value
