"""The SDXL renderer on tiny random-weight SDXL models (built here, loaded through the user-facing loader)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # tiny models: threads only add contention on a shared 2-core machine

from dedit_sdxl import sdxl_options
from sdxl_tiny import build_tiny_sdxl, plain_plan, write_picture

from dedit_sdxl import SDXLRenderer
from dedit_sdxl.attention import KeyMaskingAttnProcessor, self_attention_count
from dedit_sdxl.interpreter import prefix_key, shift


@pytest.fixture(scope="module")
def tiny8(tmp_path_factory):
    """A tiny SDXL folder with SDXL's VAE factor 8."""
    return build_tiny_sdxl(tmp_path_factory.mktemp("tiny8") / "model", vae_blocks=4)


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    return write_picture(tmp_path_factory.mktemp("pic") / "pic.png", 128)


def test_plain_denoising_equals_diffusers_pipeline(tiny8, picture, tmp_path):
    """(a) a plan of plain denoising equals StableDiffusionXLPipeline from the same latent and embeddings."""
    from diffusers import DDIMScheduler, StableDiffusionXLPipeline

    r = SDXLRenderer(sdxl_options(model=str(tiny8), cache_dir=tmp_path / "cache"))
    assert r.latent_scale == 8
    plan = plain_plan(picture, size=128, steps=4)
    result = r.render(plan)
    assert result.stats["unet_evals"] == 4 + 2 * 4  # inversion + both halves of every step
    z_t = r.trajectories(plan)["bg"][plan.steps][None]

    pipe = StableDiffusionXLPipeline.from_pretrained(str(tiny8))  # stock attention processors
    # the same scheduler: the method's settings, which the plan carries, over the model's config
    pipe.scheduler = DDIMScheduler.from_config({**pipe.scheduler.config, **plan.scheduler})
    cond, _, pooled, _ = pipe.encode_prompt("", device="cpu", num_images_per_prompt=1, do_classifier_free_guidance=False)
    out = pipe(
        prompt_embeds=cond,
        negative_prompt_embeds=cond,
        pooled_prompt_embeds=pooled,
        negative_pooled_prompt_embeds=pooled,
        latents=z_t.clone(),
        num_inference_steps=plan.steps,
        guidance_scale=plan.guidance_scale,
        height=128,
        width=128,
        output_type="latent",
    ).images
    assert out.shape == r.last_latent.shape
    assert torch.allclose(out.float(), r.last_latent, atol=1e-4, rtol=0)
    assert result.image.shape == (128, 128, 3)


def test_every_self_attention_gets_the_processor(tiny8):
    r = SDXLRenderer(sdxl_options(model=str(tiny8), cache=False))
    unet = r.model.pipe.unet
    procs = unet.attn_processors
    attn1 = [n for n in procs if n.endswith("attn1.processor")]
    assert attn1 and self_attention_count(unet) == len(attn1)
    assert not any(isinstance(p, KeyMaskingAttnProcessor) for n, p in procs.items() if n.endswith("attn2.processor"))


def test_inversion_cache_hit_skips_inversion_and_corrupt_entry_is_rebuilt(tiny8, picture, tmp_path):
    plan = plain_plan(picture, size=64, steps=3)
    cold = SDXLRenderer(sdxl_options(model=str(tiny8), cache_dir=tmp_path / "c")).render(plan)
    assert cold.stats["inversion_evals"] == 3 and cold.stats["cache_misses"] == 1

    warm_r = SDXLRenderer(sdxl_options(model=str(tiny8), cache_dir=tmp_path / "c"))
    warm = warm_r.render(plan)
    assert warm.stats["inversion_evals"] == 0 and warm.stats["cache_hits"] == 1
    np.testing.assert_array_equal(warm.image, cold.image)
    again = warm_r.render(plan)  # in memory this time
    assert again.stats["inversion_evals"] == 0

    for entry in (tmp_path / "c").rglob("*.bin"):
        entry.write_bytes(entry.read_bytes()[:-50])  # truncate every entry
    rebuilt = SDXLRenderer(sdxl_options(model=str(tiny8), cache_dir=tmp_path / "c")).render(plan)
    assert rebuilt.stats["inversion_evals"] == 3
    np.testing.assert_array_equal(rebuilt.image, cold.image)


def test_cache_size_bounds_what_the_renderer_stores(tiny8, picture, tmp_path, monkeypatch):
    """--cache-size / $DEDIT_CACHE_SIZE reach the inversion cache: a bound below one entry stores nothing."""
    plan = plain_plan(picture, size=64, steps=3)
    SDXLRenderer(sdxl_options(model=str(tiny8), cache_dir=tmp_path / "small", cache_max_bytes=1000)).render(plan)
    assert not list((tmp_path / "small").rglob("*.bin"))
    monkeypatch.setenv("DEDIT_CACHE_SIZE", "1K")
    SDXLRenderer(sdxl_options(model=str(tiny8), cache_dir=tmp_path / "env")).render(plan)
    assert not list((tmp_path / "env").rglob("*.bin"))
    monkeypatch.setenv("DEDIT_CACHE_SIZE", "1M")  # a 3-step 64 px trajectory is a few KB
    SDXLRenderer(sdxl_options(model=str(tiny8), cache_dir=tmp_path / "fits")).render(plan)
    assert len(list((tmp_path / "fits").rglob("*.bin"))) == 1


def test_inversion_is_keyed_by_step_count_and_size(tiny8, picture, tmp_path):
    r = SDXLRenderer(sdxl_options(model=str(tiny8), cache_dir=tmp_path / "c"))
    r.render(plain_plan(picture, size=64, steps=3))
    assert r.render(plain_plan(picture, size=64, steps=2)).stats["inversion_evals"] == 2
    assert r.render(plain_plan(picture, size=128, steps=2)).stats["inversion_evals"] == 2


def test_plan_for_another_latent_scale_is_refused(tiny8, picture):
    from designedit.errors import DeditError

    plan = plain_plan(picture, size=64, steps=2, latent_scale=4)
    with pytest.raises(DeditError, match="latent scale"):
        SDXLRenderer(sdxl_options(model=str(tiny8), cache=False)).render(plan)


def test_shift_moves_whole_cells_and_zero_fills():
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    s = shift(x, 1, -1)
    expected = torch.tensor([[0, 4, 5, 6], [0, 8, 9, 10], [0, 0, 0, 0]], dtype=torch.float32)
    assert torch.equal(s[0, 0], expected)
    assert torch.equal(shift(x, 0, 0), x) and not shift(x, 4, 0).any()


def test_prefix_key_ignores_what_comes_after_the_first_fuse(picture):
    from dataclasses import replace

    from designedit.plan import FuseLayer, FuseOp, LatentRef

    plan = plain_plan(picture, size=64, steps=3)
    assert prefix_key(plan, "m", "fp32") is None  # no fusion, nothing to reuse
    fuse = FuseOp("C", LatentRef(branch="C"), (FuseLayer(LatentRef(branch="C"), "remove@latent", 1, 0),))
    plan.plan_steps[1].ops.append(fuse)
    k1 = prefix_key(plan, "m", "fp32")
    plan.plan_steps[1].ops[-1] = replace(fuse, layers=(replace(fuse.layers[0], dx=3),))  # ops are frozen
    plan.plan_steps[2].evals[0].halves = ["cond"]
    assert prefix_key(plan, "m", "fp32") == k1
    plan.plan_steps[0].evals[0].keymask = "remove@latent"
    assert prefix_key(plan, "m", "fp32") != k1
    assert prefix_key(plan, "other model", "fp32") != prefix_key(plan, "m", "fp32")


def test_inversion_is_the_next_step_ddim_update_in_the_schedulers_float32():
    """Method 2 as the authors' code computes it: the scheduler's float32 alphas, the final alpha before
    the first timestep, walking the timesteps from the last to the first (bit for bit)."""
    from diffusers import DDIMScheduler

    from designedit.plan import DDIM_SETTINGS, ddim_timesteps
    from dedit_sdxl.inversion import invert

    scheduler = DDIMScheduler(**DDIM_SETTINGS)
    steps = 10
    scheduler.set_timesteps(steps)
    timesteps = ddim_timesteps(steps)
    assert timesteps == [int(t) for t in scheduler.timesteps] and timesteps[-1] == 0

    def predict(z, t):
        return torch.tanh(z * 0.7 + t / 1000.0)

    z0 = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    got = invert(predict, z0, scheduler, timesteps)
    z, want = z0.clone(), [z0.clone()]
    for t in reversed(scheduler.timesteps):
        current, nxt = t - 1000 // steps, t  # from one step before t to t
        a = scheduler.alphas_cumprod[current] if current >= 0 else scheduler.final_alpha_cumprod
        a_next = scheduler.alphas_cumprod[nxt]
        eps = predict(z, int(t))
        x0 = (z - (1 - a) ** 0.5 * eps) / a ** 0.5
        z = a_next ** 0.5 * x0 + (1 - a_next) ** 0.5 * eps
        want.append(z)
    assert torch.equal(got, torch.stack(want))
