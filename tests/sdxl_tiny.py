"""Tiny SDXL-shaped models with random weights, for tests and the CPU bench.

`build_tiny_sdxl(folder)` writes a diffusers SDXL folder (model_index.json,
unet, vae, two CLIP text encoders, two tokenizers, DDIM scheduler) that the
user-facing loader opens exactly like a real checkpoint. The layout matches
SDXL: a UNet with `addition_embed_type="text_time"` whose cross-attention
width is the two encoders' hidden sizes together, a pooled projection from
the second encoder, and a VAE with factor 8 (four blocks) so 1024 px works.

`write_ldm_checkpoint(pipe, path)` writes the same weights as one
`.safetensors` in the original (Stability "LDM") SDXL key layout, which is
what diffusers' single-file loader expects, so tests can prove that path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _write_vocab(folder: Path) -> tuple[Path, Path]:
    """A byte-level BPE vocabulary of single letters, enough for short prompts."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["!", "<|startoftext|>", "<|endoftext|>"] + list(_LETTERS) + [c + "</w>" for c in _LETTERS]
    vocab = {tok: i for i, tok in enumerate(tokens)}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return folder / "vocab.json", folder / "merges.txt"


def tiny_components(seed: int = 0, vae_blocks: int = 4, unet_channels: tuple[int, int] = (8, 16)):
    """The SDXL components with random weights (deterministic for a seed).

    Small enough that a one-megapixel render (what the compiler's fast
    schedule asks for) takes seconds on two CPU cores; `vae_blocks` = 4 gives
    SDXL's VAE factor 8, 6 gives 32 (a cheap latent for one-megapixel renders).
    """
    import tempfile

    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    torch.manual_seed(seed)
    # the encoders' widths differ, as in SDXL (768 / 1280): the single-file
    # loader tells the two apart by their position-embedding width
    te_hidden, te2_hidden, te_proj, time_dim = 32, 48, 32, 8
    unet = UNet2DConditionModel(
        sample_size=32,
        in_channels=4,
        out_channels=4,
        block_out_channels=unet_channels,
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(1, 2),  # diffusers' legacy name for the number of heads
        use_linear_projection=True,
        transformer_layers_per_block=(1, 1),
        addition_embed_type="text_time",
        addition_time_embed_dim=time_dim,
        projection_class_embeddings_input_dim=6 * time_dim + te_proj,
        cross_attention_dim=te_hidden + te2_hidden,
        norm_num_groups=8,
    )
    torch.manual_seed(seed + 1)
    channels = [4, 8, 8, 8, 8, 8][:vae_blocks]
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * vae_blocks,
        up_block_types=["UpDecoderBlock2D"] * vae_blocks,
        block_out_channels=channels,
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=128,
        scaling_factor=0.13025,
    )
    text_config = dict(
        vocab_size=64,
        hidden_size=te_hidden,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        projection_dim=te_proj,
        max_position_embeddings=77,
        hidden_act="gelu",
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
    )
    torch.manual_seed(seed + 2)
    text_encoder = CLIPTextModel(CLIPTextConfig(**text_config))
    torch.manual_seed(seed + 3)
    text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**{**text_config, "hidden_size": te2_hidden}))
    with tempfile.TemporaryDirectory() as tmp:
        vocab, merges = _write_vocab(Path(tmp))
        tokenizer = CLIPTokenizer(str(vocab), str(merges), model_max_length=77, pad_token="<|endoftext|>")
        tokenizer_2 = CLIPTokenizer(str(vocab), str(merges), model_max_length=77, pad_token="!")
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        timestep_spacing="leading",
    )
    return dict(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        scheduler=scheduler,
    )


def build_tiny_sdxl(folder: Path, seed: int = 0, vae_blocks: int = 4) -> Path:
    """Save a tiny SDXL pipeline as a diffusers folder and return the folder."""
    from diffusers import StableDiffusionXLPipeline

    pipe = StableDiffusionXLPipeline(**tiny_components(seed, vae_blocks))
    pipe.save_pretrained(str(folder))
    return Path(folder)


# ------------------------------------------------------------------ LDM layout


def _resnet_keys(prefix_d: str, prefix_l: str, unet: bool) -> dict[str, str]:
    names = (
        {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
         "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}
        if unet
        else {"norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2", "conv_shortcut": "nin_shortcut"}
    )
    return {f"{prefix_d}.{d}": f"{prefix_l}.{l}" for d, l in names.items()}


def _unet_prefix_map(config) -> dict[str, str]:
    """diffusers module prefix -> LDM module prefix for an SDXL-style UNet."""
    m: dict[str, str] = {
        "time_embedding.linear_1": "time_embed.0",
        "time_embedding.linear_2": "time_embed.2",
        "add_embedding.linear_1": "label_emb.0.0",
        "add_embedding.linear_2": "label_emb.0.2",
        "conv_in": "input_blocks.0.0",
        "conv_norm_out": "out.0",
        "conv_out": "out.2",
    }
    lpb = config.layers_per_block
    n = len(config.block_out_channels)
    for i in range(n):
        for j in range(lpb):
            k = i * (lpb + 1) + j + 1
            m.update(_resnet_keys(f"down_blocks.{i}.resnets.{j}", f"input_blocks.{k}.0", True))
            m[f"down_blocks.{i}.attentions.{j}"] = f"input_blocks.{k}.1"
        if i < n - 1:
            m[f"down_blocks.{i}.downsamplers.0.conv"] = f"input_blocks.{(i + 1) * (lpb + 1)}.0.op"
    m.update(_resnet_keys("mid_block.resnets.0", "middle_block.0", True))
    m["mid_block.attentions.0"] = "middle_block.1"
    m.update(_resnet_keys("mid_block.resnets.1", "middle_block.2", True))
    for i, kind in enumerate(config.up_block_types):
        has_attn = kind.startswith("CrossAttn")
        for j in range(lpb + 1):
            k = i * (lpb + 1) + j
            m.update(_resnet_keys(f"up_blocks.{i}.resnets.{j}", f"output_blocks.{k}.0", True))
            m[f"up_blocks.{i}.attentions.{j}"] = f"output_blocks.{k}.1"
        if i < n - 1:
            m[f"up_blocks.{i}.upsamplers.0.conv"] = f"output_blocks.{i * (lpb + 1) + lpb}.{2 if has_attn else 1}.conv"
    return m


def _vae_prefix_map(config) -> dict[str, str]:
    m = {"quant_conv": "quant_conv", "post_quant_conv": "post_quant_conv"}
    n = len(config.block_out_channels)
    for part in ("encoder", "decoder"):
        for a in ("conv_in", "conv_out"):
            m[f"{part}.{a}"] = f"{part}.{a}"
        m[f"{part}.conv_norm_out"] = f"{part}.norm_out"
        m.update(_resnet_keys(f"{part}.mid_block.resnets.0", f"{part}.mid.block_1", False))
        m.update(_resnet_keys(f"{part}.mid_block.resnets.1", f"{part}.mid.block_2", False))
        for d, l in {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}.items():
            m[f"{part}.mid_block.attentions.0.{d}"] = f"{part}.mid.attn_1.{l}"
    lpb = config.layers_per_block
    for i in range(n):
        for j in range(lpb):
            m.update(_resnet_keys(f"encoder.down_blocks.{i}.resnets.{j}", f"encoder.down.{i}.block.{j}", False))
        if i < n - 1:
            m[f"encoder.down_blocks.{i}.downsamplers.0.conv"] = f"encoder.down.{i}.downsample.conv"
        for j in range(lpb + 1):
            m.update(_resnet_keys(f"decoder.up_blocks.{i}.resnets.{j}", f"decoder.up.{n - 1 - i}.block.{j}", False))
        if i < n - 1:
            m[f"decoder.up_blocks.{i}.upsamplers.0.conv"] = f"decoder.up.{n - 1 - i}.upsample.conv"
    return m


def _rename(state: dict[str, torch.Tensor], prefixes: dict[str, str]) -> dict[str, torch.Tensor]:
    out = {}
    ordered = sorted(prefixes.items(), key=lambda kv: -len(kv[0]))
    for key, value in state.items():
        for d, l in ordered:
            if key.startswith(d + "."):
                out[l + key[len(d):]] = value
                break
        else:
            out[key] = value  # transformer internals keep their names
    return out


def _open_clip_state(model) -> dict[str, torch.Tensor]:
    """CLIPTextModelWithProjection weights in OpenCLIP's layout (fused q/k/v)."""
    s = {k.removeprefix("text_model."): v for k, v in model.state_dict().items()}
    out = {
        "token_embedding.weight": s["embeddings.token_embedding.weight"],
        "positional_embedding": s["embeddings.position_embedding.weight"],
        "ln_final.weight": s["final_layer_norm.weight"],
        "ln_final.bias": s["final_layer_norm.bias"],
        "text_projection": s["text_projection.weight"].T.contiguous(),
    }
    for i in range(model.config.num_hidden_layers):
        d, l = f"encoder.layers.{i}", f"transformer.resblocks.{i}"
        for w in ("weight", "bias"):
            out[f"{l}.attn.in_proj_{w}"] = torch.cat([s[f"{d}.self_attn.{p}_proj.{w}"] for p in "qkv"])
            out[f"{l}.attn.out_proj.{w}"] = s[f"{d}.self_attn.out_proj.{w}"]
            out[f"{l}.ln_1.{w}"] = s[f"{d}.layer_norm1.{w}"]
            out[f"{l}.ln_2.{w}"] = s[f"{d}.layer_norm2.{w}"]
            out[f"{l}.mlp.c_fc.{w}"] = s[f"{d}.mlp.fc1.{w}"]
            out[f"{l}.mlp.c_proj.{w}"] = s[f"{d}.mlp.fc2.{w}"]
    return out


def ldm_state_dict(pipe) -> dict[str, torch.Tensor]:
    """All SDXL weights of a diffusers pipeline under the original checkpoint's keys."""
    state: dict[str, torch.Tensor] = {}
    for k, v in _rename(pipe.unet.state_dict(), _unet_prefix_map(pipe.unet.config)).items():
        state["model.diffusion_model." + k] = v
    for k, v in _rename(pipe.vae.state_dict(), _vae_prefix_map(pipe.vae.config)).items():
        if ".mid.attn_1." in k and k.endswith(".weight") and v.ndim == 2:
            v = v[:, :, None, None]  # the original VAE attention uses 1x1 convolutions
        state["first_stage_model." + k] = v
    te1 = pipe.text_encoder.state_dict()
    for k, v in te1.items():
        k = k if k.startswith("text_model.") else "text_model." + k
        state["conditioner.embedders.0.transformer." + k] = v
    for k, v in _open_clip_state(pipe.text_encoder_2).items():
        state["conditioner.embedders.1.model." + k] = v
    return {k: v.detach().contiguous().clone() for k, v in state.items()}


def write_ldm_checkpoint(pipe, path: Path) -> Path:
    from safetensors.torch import save_file

    save_file(ldm_state_dict(pipe), str(path))
    return Path(path)


# ------------------------------------------------------------------ hand-built plans


def plain_plan(picture: Path, size: int = 128, steps: int = 3, latent_scale: int = 8, guidance: float = 7.5):
    """A plan of plain denoising: one canvas branch from `picture`'s inversion, both halves, no masks or ops."""
    import hashlib

    import numpy as np

    from designedit.plan import DDIM_SETTINGS, Branch, Cost, Eval, FrameOp, LoadOp, MaskData, Plan, PlanImage, Size, Step, ddim_timesteps

    digest = hashlib.sha256(Path(picture).read_bytes()).hexdigest()
    image = PlanImage(
        "bg",
        digest[:32],
        [FrameOp(size, size), LoadOp(str(picture), digest, 0, 0)],
    )
    latent = size // latent_scale
    steps_list = [Step(i, t, [Eval("C", ["uncond", "cond"])]) for i, t in enumerate(ddim_timesteps(steps))]
    return Plan(
        schedule="reference",
        steps=steps,
        guidance_scale=guidance,
        prompt="",
        seed=0,
        canvas=Size(size, size),
        render=Size(size, size),
        latent_scale=latent_scale,
        latent=Size(latent, latent),
        scheduler=dict(DDIM_SETTINGS),
        images=[image],
        branches=[Branch("C", "canvas", "bg")],
        masks={
            "edit@canvas": MaskData("edit@canvas", np.full((size, size), 255, np.uint8)),
            "remove@latent": MaskData("remove@latent", np.zeros((latent, latent), np.uint8)),
        },
        layers=[],
        plan_steps=steps_list,
        output="C",
        edit_region="edit@canvas",
        background="bg",
        cost=Cost(inversion=steps, denoise=2 * steps),
    )


def write_picture(path: Path, size: int = 128, seed: int = 0) -> Path:
    """A smooth synthetic RGB picture with a disc, so the VAE has structure to encode."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    img = np.stack([x, y, 0.5 + 0.5 * np.sin(6 * x * y)], -1) * 200
    disc = (x - 0.4) ** 2 + (y - 0.5) ** 2 < 0.05
    img[disc] = [220, 30, 30]
    img += rng.normal(0, 3, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return Path(path)


def hub_cache_with(model_folder: Path, hub: Path, repo_id: str, rev: str, monkeypatch) -> Path:
    """Lay out `hub` as a Hugging Face cache holding `model_folder` as `repo_id` at revision `rev` (refs/main
    points there) and point the environment and huggingface_hub at it, as a user's cache would be."""
    repo = hub / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(model_folder, repo / "snapshots" / rev)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(rev)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(hub))
    return repo
