"""(b) The key-masking processor equals a naive formula of Eq. 1/4."""

from __future__ import annotations

import math

import pytest
import torch

torch.set_num_threads(1)  # tiny models: threads only add contention on a shared 2-core machine
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from dedit_sdxl.attention import KeyMaskingAttnProcessor, KeyMaskState, fuse_self_attention, unfuse_self_attention


def naive(attn: Attention, h: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """softmax(Q K'^T / sqrt(d)) V per head with K' = W_K((1 - m) * h); h (n, c), m (n,)."""
    heads = attn.heads
    q, k, v = h @ attn.to_q.weight.T, ((1 - m)[:, None] * h) @ attn.to_k.weight.T, h @ attn.to_v.weight.T
    if attn.to_k.bias is not None:
        q, k, v = q + attn.to_q.bias, k + attn.to_k.bias, v + attn.to_v.bias
    d = q.shape[-1] // heads
    q, k, v = (x.reshape(-1, heads, d) for x in (q, k, v))
    logits = torch.einsum("ihd,jhd->hij", q, k) / math.sqrt(d)
    out = torch.einsum("hij,jhd->ihd", logits.softmax(-1), v).reshape(-1, heads * d)
    return out @ attn.to_out[0].weight.T + attn.to_out[0].bias


def _layer(dim: int = 16, heads: int = 2, bias: bool = False, fused: bool = False) -> Attention:
    torch.manual_seed(0)
    attn = Attention(query_dim=dim, heads=heads, dim_head=dim // heads, bias=bias).eval()
    if bias:  # nn.Linear starts its biases small; make them matter
        for part in (attn.to_q, attn.to_k, attn.to_v):
            torch.nn.init.normal_(part.bias, std=1.0)
    if fused:
        holder = torch.nn.Module()
        holder.attn1 = attn  # fuse_self_attention finds self-attentions by their UNet name
        assert fuse_self_attention(holder) == 1 and attn.fused_projections
    return attn


@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("fused", [False, True], ids=["separate", "fused"])
def test_processor_equals_naive_formula_per_sample(fused, bias):
    attn = _layer(bias=bias, fused=fused)
    state = KeyMaskState()
    attn.set_processor(KeyMaskingAttnProcessor(state))
    h = torch.randn(3, 16, 16)  # batch 3, a 4x4 grid
    masks = torch.zeros(3, 1, 4, 4)
    masks[1, 0, 1:3, 0:2] = 1.0  # only the middle sample is masked
    masks[2, 0, 3, 3] = 0.5  # soft values are used as given
    state.set(masks)
    with torch.no_grad():
        wants = [naive(attn, h[b], masks[b, 0].flatten()) for b in range(3)]
        if fused:  # the fused path must read the fused weight alone: the separate ones now say nothing
            for part in (attn.to_q, attn.to_k, attn.to_v):
                part.weight = torch.nn.Parameter(torch.zeros_like(part.weight), requires_grad=False)
                if bias:
                    part.bias = torch.nn.Parameter(torch.zeros_like(part.bias), requires_grad=False)
        got = attn(h)
        for b in range(3):
            torch.testing.assert_close(got[b], wants[b], atol=1e-5, rtol=1e-5)
        # an unmasked sample and a call without masks are the stock computation
        state.clear()
        stock = (attn.processor.fused_stock if fused else attn.processor.stock)(attn, h)
        torch.testing.assert_close(got[0], stock[0], atol=1e-5 if bias else 1e-6, rtol=0)
        torch.testing.assert_close(attn(h), stock, atol=0, rtol=0)
        # the masked sample really differs
        assert (got[1] - stock[1]).abs().max() > 1e-3


def test_mask_is_resized_bilinearly_to_the_layer_resolution():
    attn = _layer()
    state = KeyMaskState()
    attn.set_processor(KeyMaskingAttnProcessor(state))
    latent_mask = torch.zeros(1, 1, 8, 6)
    latent_mask[0, 0, 2:6, 1:4] = 1.0
    state.set(latent_mask)
    h = torch.randn(1, 4 * 3, 16)  # a layer at half the latent resolution: 4x3
    with torch.no_grad():
        got = attn(h)
    m = F.interpolate(latent_mask, size=(4, 3), mode="bilinear", align_corners=False)[0, 0].flatten()
    assert ((m > 0) & (m < 1)).any()  # not re-binarised
    torch.testing.assert_close(got[0], naive(attn, h[0], m), atol=1e-5, rtol=1e-5)


def test_odd_latent_sides_round_up_per_level():
    state = KeyMaskState()
    state.set(torch.ones(1, 1, 7, 5))
    assert state.keep(4 * 3, torch.float32).shape == (1, 12, 1)  # ceil(7/2) x ceil(5/2)
    assert state.keep(2 * 2, torch.float32).shape == (1, 4, 1)


def test_cross_attention_takes_the_stock_path():
    torch.manual_seed(1)
    attn = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8).eval()
    state = KeyMaskState()
    attn.set_processor(KeyMaskingAttnProcessor(state))
    state.set(torch.ones(2, 1, 4, 4))
    h, ctx = torch.randn(2, 16, 16), torch.randn(2, 5, 8)
    with torch.no_grad():
        torch.testing.assert_close(attn(h, encoder_hidden_states=ctx), AttnProcessor2_0()(attn, h, ctx), atol=0, rtol=0)


def test_a_self_attention_with_input_normalisation_is_refused_not_silently_unmasked():
    from designedit.errors import DeditError

    attn = Attention(query_dim=8, heads=2, dim_head=4, norm_num_groups=2)
    state = KeyMaskState()
    attn.set_processor(KeyMaskingAttnProcessor(state))
    h = torch.randn(1, 16, 8)
    attn(h)  # no mask set: the stock path
    state.set(torch.ones(1, 1, 4, 4))
    with pytest.raises(DeditError, match="key-masking"):
        attn(h)


def test_fusing_shares_the_weights_and_keeps_the_numbers():
    """Fused projections hold no second copy of q/k/v, and the unmasked output is unchanged."""
    attn = _layer(bias=True)
    h = torch.randn(2, 16, 16)
    with torch.no_grad():
        before = AttnProcessor2_0()(attn, h)
        holder = torch.nn.Module()
        holder.attn1 = attn
        holder.attn2 = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8)  # not fused
        assert fuse_self_attention(holder) == 1 and not holder.attn2.fused_projections
        fused = attn.to_qkv.weight
        base = fused.untyped_storage().data_ptr()
        assert all(p.weight.untyped_storage().data_ptr() == base for p in (attn.to_q, attn.to_k, attn.to_v))
        assert attn.to_k.weight.data_ptr() == fused[16:32].data_ptr()
        assert attn.to_v.bias.data_ptr() == attn.to_qkv.bias[32:].data_ptr()
        attn.set_processor(KeyMaskingAttnProcessor(KeyMaskState()))
        torch.testing.assert_close(attn(h), before, atol=1e-5, rtol=1e-5)
        assert fuse_self_attention(holder) == 1 and attn.to_qkv.weight is fused  # fusing twice changes nothing


def test_unfusing_gives_each_projection_its_own_weight_so_the_module_can_be_saved(tmp_path):
    from safetensors.torch import save_file

    attn = _layer(bias=True)
    h = torch.randn(2, 16, 16)
    holder = torch.nn.Module()
    holder.attn1 = attn
    with torch.no_grad():
        before = AttnProcessor2_0()(attn, h)
        fuse_self_attention(holder)
        with pytest.raises(RuntimeError, match="share memory"):
            save_file(holder.state_dict(), str(tmp_path / "fused.safetensors"))
        assert unfuse_self_attention(holder) == 1 and not attn.fused_projections and not hasattr(attn, "to_qkv")
        save_file(holder.state_dict(), str(tmp_path / "plain.safetensors"))
        assert not any("to_qkv" in key for key in holder.state_dict())
        attn.set_processor(KeyMaskingAttnProcessor(KeyMaskState()))
        torch.testing.assert_close(attn(h), before, atol=1e-5, rtol=1e-5)
