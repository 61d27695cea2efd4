"""A tiny SDXL whose weights are set so that one prompt token's cross-attention falls on a known region.

The planted model carries the picture to the first cross-attention layer cell by cell and unchanged: every
convolution on that path (the VAE encoder's and the UNet's down to its second level) reads only the centre
of its window (an identity, one pixel per cell after the downsamplings), every residual branch and
self-attention adds nothing (their last weights are zero), and the UNet predicts no noise (its conv_out is
zero), so the inversion only rescales the latent and every step shows that layer the same features. A
picture that is white on a region and black elsewhere then gives that layer exactly two feature vectors.
Its query reads the side of a line between them (fitted once to the recorded features) and its key reads
one token of the prompt (a least-squares direction that is 1 on that token and 0 on every other one), so
the token's attention is ~1 on the region and ~0 elsewhere; the other cross-attention layers get a zero
query (uniform attention, a constant that normalisation removes).
"""

from __future__ import annotations

import torch
from diffusers.models.attention_processor import Attention
from diffusers.models.resnet import Downsample2D, ResnetBlock2D


def _centre_tap(conv: torch.nn.Conv2d) -> None:
    """A convolution that copies its input channels (as many as both have) from the centre of its window."""
    with torch.no_grad():
        conv.weight.zero_()
        k = conv.weight.shape[-1] // 2
        n = min(conv.weight.shape[0], conv.weight.shape[1])
        conv.weight[torch.arange(n), torch.arange(n), k, k] = 1.0
        if conv.bias is not None:
            conv.bias.zero_()


def _pass_through(module: torch.nn.Module) -> None:
    """Residual branches and attentions add nothing; shortcuts and downsamplers copy."""
    for sub in module.modules():
        if isinstance(sub, ResnetBlock2D):
            with torch.no_grad():
                sub.conv2.weight.zero_()
                sub.conv2.bias.zero_()
            if sub.conv_shortcut is not None:
                _centre_tap(sub.conv_shortcut)
        elif isinstance(sub, Downsample2D):
            _centre_tap(sub.conv)
        elif isinstance(sub, Attention):
            with torch.no_grad():
                sub.to_out[0].weight.zero_()
                if sub.to_out[0].bias is not None:
                    sub.to_out[0].bias.zero_()


def carry_picture(pipe) -> tuple[Attention, torch.nn.LayerNorm]:
    """Set the weights that carry the picture to the first cross-attention layer; returns that layer and the
    normalisation before it (whose bias only it reads)."""
    encoder = pipe.vae.encoder
    _pass_through(encoder)
    _centre_tap(encoder.conv_in)
    _centre_tap(encoder.conv_out)
    _centre_tap(pipe.vae.quant_conv)
    unet = pipe.unet
    _pass_through(unet)
    _centre_tap(unet.conv_in)
    with torch.no_grad():
        unet.conv_out.weight.zero_()
        unet.conv_out.bias.zero_()
    blocks = [m for name, m in unet.named_modules() if name.endswith("transformer_blocks.0")]
    for other in blocks[1:]:
        with torch.no_grad():
            other.attn2.to_q.weight.zero_()
    return blocks[0].attn2, blocks[0].norm2


def plant(layer: Attention, norm: torch.nn.LayerNorm, inside: torch.Tensor, outside: torch.Tensor,
          text: torch.Tensor, tokens: list[int], strength: float = 20.0) -> None:
    """Make `layer` attend token(s) `tokens` where its input is `inside` and not where it is `outside` (its
    input's two feature vectors), given the prompt's encoder states `text` (n, d)."""
    d = inside - outside
    w = 2 * d / float(d @ d)
    b = -float(w @ (inside + outside)) / 2  # w.x + b: +1 inside, -1 outside
    onehot = torch.zeros(text.shape[0])
    onehot[tokens] = 1.0
    v = torch.linalg.lstsq(text.float(), onehot[:, None]).solution[:, 0]  # v.e_j: 1 on the tokens, 0 elsewhere
    inner = layer.to_q.weight.shape[0]
    u = torch.ones(inner)
    head_dim = inner // layer.heads
    with torch.no_grad():
        norm.bias += b * w / float(w @ w)  # the line's offset, through a bias only this layer reads
        # per head: logit_j = strength * (w.x + b) * (v.e_j)
        layer.to_q.weight.copy_(strength / head_dim**0.5 * torch.outer(u, w))
        layer.to_k.weight.copy_(torch.outer(u, v))
