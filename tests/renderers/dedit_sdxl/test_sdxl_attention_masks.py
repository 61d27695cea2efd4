"""Attention masks with SDXL (format 1.3): the recorder's maps against a naive einsum, the planted-attention
model (planted_attention.py) giving back its region, the derived map in the cache on a second render and for
the preview, and `dedit masks`."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # tiny models: threads only add contention on a shared 2-core machine

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from planted_attention import carry_picture, plant  # noqa: E402

import designedit  # noqa: E402
from designedit.errors import DeditError  # noqa: E402
from designedit.io import load  # noqa: E402
from designedit.masks import MaskResolver  # noqa: E402
from designedit.masks.derived import Derived  # noqa: E402
from designedit.rendering import attention_cache, derive  # noqa: E402
from designedit.rendering.cache import Cache  # noqa: E402
from dedit_sdxl import SDXLRenderer, sdxl_options  # noqa: E402
from dedit_sdxl.cross_attention import MapSums, recording, word_tokens  # noqa: E402

STEPS = 4
PROMPT = "a x on a mat"
REGION = (256, 384, 640, 768)  # x0, y0, x1, y1 on a 1024 px picture: cells 4..9 x 6..11 of the 16x16 grid


def naive_word_map(attn, hidden: torch.Tensor, context: torch.Tensor, tokens: list[int]) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d)) per head by einsum, the word's tokens summed, heads averaged: (B, n)."""
    heads = attn.heads
    q, k = hidden @ attn.to_q.weight.T, context @ attn.to_k.weight.T
    d = q.shape[-1] // heads
    q = q.reshape(q.shape[0], q.shape[1], heads, d)
    k = k.reshape(k.shape[0], k.shape[1], heads, d)
    probs = (torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(d)).softmax(-1)
    return probs[..., tokens].sum(-1).mean(1)


@pytest.fixture()
def renderer(tiny32, tmp_path) -> SDXLRenderer:
    return SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path / "cache"))


def test_recorded_maps_equal_a_naive_einsum_on_the_tiny_model(renderer):
    pipe = renderer.model.pipe
    unet = pipe.unet
    crosses = {name: m for name, m in unet.named_modules() if name.endswith("attn2")}
    seen: dict[str, tuple] = {}
    def keep(name: str):
        def hook(module, args, kwargs) -> None:  # None: the layer's inputs are left as they are
            seen.setdefault(name, (args[0] if args else kwargs["hidden_states"], kwargs["encoder_hidden_states"]))
        return hook

    hooks = [m.register_forward_pre_hook(keep(name), with_kwargs=True) for name, m in crosses.items()]
    embeds = renderer._conditioning.embeddings_for(PROMPT, 1024, 1024)
    tokens = word_tokens(pipe.tokenizer, PROMPT, "mat")
    assert len(tokens) == 3  # the tiny vocabulary spells words letter by letter
    sums = MapSums(tokens)
    torch.manual_seed(0)
    x = torch.randn(1, 4, 32, 32)
    with recording(unet, sums), torch.inference_mode():
        out = unet(x, 500, encoder_hidden_states=embeds["cond"], added_cond_kwargs={"text_embeds": embeds["pooled"], "time_ids": embeds["time_ids"]}).sample
    for h in hooks:
        h.remove()
    with torch.inference_mode():  # the recorder changes nothing the UNet computes
        stock = unet(x, 500, encoder_hidden_states=embeds["cond"], added_cond_kwargs={"text_embeds": embeds["pooled"], "time_ids": embeds["time_ids"]}).sample
    torch.testing.assert_close(out, stock, atol=1e-5, rtol=1e-4)
    by_size: dict[int, list[torch.Tensor]] = {}
    for name, (hidden, context) in seen.items():
        m = naive_word_map(crosses[name], hidden.float(), context.float(), tokens)
        by_size.setdefault(m.shape[-1], []).append(m)
    lowest = min(by_size)
    assert len(by_size[lowest]) == 4  # the tiny UNet has all four at its second level: down, mid, and up (two)
    n, recorded = sums.lowest()
    assert n == lowest == 16 * 16
    torch.testing.assert_close(recorded, torch.stack(by_size[lowest]).mean(0), atol=1e-5, rtol=1e-4)


def _planted_scene(folder: Path) -> Path:
    pic = np.zeros((1024, 1024, 3), np.uint8)
    x0, y0, x1, y1 = REGION
    pic[y0:y1, x0:x1] = 255
    Image.fromarray(pic).save(folder / "pic.png")
    (folder / "scene.dedit").write_text(
        f'<dedit version="1.3"><prompt>{PROMPT}</prompt><image id="p" src="pic.png"/>'
        '<mask id="x"><attention word="x"/></mask><background image="p"/>'
        '<layer id="x" image="p" mask="x"><move dx="64" dy="0"/></layer></dedit>')
    return folder / "scene.dedit"


def test_planted_attention_gives_back_its_region_within_one_latent_cell(renderer, tmp_path):
    scene = load(_planted_scene(tmp_path))
    wanted = derive.requests(scene, STEPS, renderer.latent_scale, renderer.native_size)
    assert [(r.key, r.size, r.steps) for r in wanted] == [(("p", "x"), (1024, 1024), STEPS)]
    layer, norm = carry_picture(renderer.model.pipe)
    inputs: list[torch.Tensor] = []
    hook = layer.register_forward_pre_hook(lambda m, a, kw: inputs.append((a[0] if a else kw["hidden_states"])[0].float().clone()),
                                           with_kwargs=True)
    renderer._cache = None  # the maps before and after planting are not the same model's
    renderer.derive_masks(wanted)
    hook.remove()
    features = inputs[0].reshape(16, 16, -1)
    inside = torch.zeros(16, 16, dtype=torch.bool)
    inside[6:12, 4:10] = True
    # the premise: every step shows the layer the same two feature vectors, one on the region, one off it
    assert all(torch.equal(f, inputs[0]) for f in inputs)
    assert torch.unique(features.reshape(256, -1), dim=0).shape[0] == 2
    text = renderer._conditioning.embeddings_for(PROMPT, 1024, 1024)["cond"][0]
    plant(layer, norm, features[inside][0], features[~inside][0], text, word_tokens(renderer.model.pipe.tokenizer, PROMPT, "x"))
    maps = renderer.derive_masks(wanted)
    selected = MaskResolver(scene, 1024, 1024, derived=Derived(maps))("x", "p") >= 128
    cell = renderer.latent_scale  # 32 px: one latent cell of the tiny model
    x0, y0, x1, y1 = REGION
    grown = np.zeros_like(selected)
    grown[y0 - cell : y1 + cell, x0 - cell : x1 + cell] = True
    shrunk = np.zeros_like(selected)
    shrunk[y0 + cell : y1 - cell, x0 + cell : x1 - cell] = True
    assert selected[shrunk].all() and not selected[~grown].any()
    ys, xs = np.nonzero(selected)
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == REGION  # in fact exact: the region is cell-aligned


def _small_scene(folder: Path) -> Path:
    from render_fixtures import write_poster

    write_poster(folder)
    (folder / "ball.dedit").write_text(
        '<dedit version="1.3"><prompt>a red ball on a poster</prompt><image id="p" src="poster.png"/>'
        '<mask id="ball" grow="4"><attention word="ball" threshold="0.6"/></mask><background image="p"/>'
        '<layer id="ball" image="p" mask="ball"><move dx="64" dy="0"/></layer></dedit>')
    return folder / "ball.dedit"


def test_a_second_render_finds_the_map_in_the_cache_and_the_preview_uses_it(tiny32, tmp_path):
    path = _small_scene(tmp_path)
    cache = tmp_path / "cache"
    with pytest.raises(DeditError, match="the preview runs no model: render with --model, or run `dedit masks"):
        designedit.render(path, renderer="preview", cache_dir=cache)
    first = designedit.render(path, renderer="sdxl", model=str(tiny32), steps=STEPS, cache_dir=cache)
    assert (first.stats["attention_maps_derived"], first.stats["attention_maps_cached"]) == (1, 0)
    scene = load(path)
    request = derive.requests(scene, STEPS, 32, 1024)[0]
    entry = attention_cache.get(Cache(cache), request)
    assert entry is not None and entry[0].shape == (14, 18) and entry[0].min() == 0 and entry[0].max() == 1
    second = designedit.render(path, renderer="sdxl", model=str(tiny32), steps=STEPS, cache_dir=cache)
    assert (second.stats["attention_maps_derived"], second.stats["attention_maps_cached"]) == (0, 1)
    np.testing.assert_array_equal(first.image, second.image)
    preview = designedit.render(path, renderer="preview", cache_dir=cache)  # now it finds the map
    layer = np.asarray(preview.layers["layer:ball"])[..., 3] > 0
    want = MaskResolver(scene, 512, 384, derived=Derived({("p", "ball"): entry[0]}))("ball", "p") >= 128
    assert layer.any() and want.any()
    # the preview's layer is the derived mask, moved by 64 px (two of the tiny model's latent cells)
    np.testing.assert_array_equal(np.nonzero(layer.any(0))[0].min(), np.nonzero(want.any(0))[0].min() + 64)


def test_dedit_masks_writes_the_png_and_prints_the_scene_that_reads_it(tiny32, tmp_path, capsys):
    from designedit.cli import main

    path = _small_scene(tmp_path)
    rc = main(["masks", str(path), "--model", str(tiny32), "--steps", str(STEPS), "--cache-dir", str(tmp_path / "cache"),
               "-o", str(tmp_path / "masks")])
    out = capsys.readouterr().out
    assert rc == 0
    written = np.asarray(Image.open(tmp_path / "masks" / "ball.png"))
    scene = load(path)
    request = derive.requests(scene, STEPS, 32, 1024)[0]
    grid = attention_cache.get(Cache(tmp_path / "cache"), request, None)[0]
    from designedit.masks.derived import select

    np.testing.assert_array_equal(written, select(grid, 0.6, (512, 384)))
    assert '<mask id="ball" src="masks/ball.png" grow="4"/>' in out and "attention" not in out
    (tmp_path / "again.dedit").write_text(out)
    assert load(tmp_path / "again.dedit").mask("ball").src == "masks/ball.png"  # the printed scene reads
