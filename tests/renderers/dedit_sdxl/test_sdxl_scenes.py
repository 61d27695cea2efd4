"""Compiled scenes on a tiny SDXL model: conformance renders, paste-back, determinism, incremental re-renders.

The compiler renders at about the square of the model's native size
(`sample_size * vae_scale_factor`), so most of these tests use a tiny model
whose VAE has factor 32 (native 1024, a 36x28 latent for the 512x384
conformance canvas); the factor-8 layout is covered in test_sdxl_renderer.py,
test_sdxl_loading.py and the native-size test below.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

torch.set_num_threads(1)  # tiny models: threads only add contention on a shared 2-core machine
import pytest
from PIL import Image

from designedit.compiler import compile_scene
from designedit.plan.recipes import materialize
from designedit.io import load
from dedit_sdxl import sdxl_options
from render_fixtures import stretch_document
from sdxl_tiny import build_tiny_sdxl, hub_cache_with

from dedit_sdxl import SDXLRenderer

from shared_paths import CONFORMANCE, cases  # noqa: E402
DOCUMENTS = cases(lambda: sorted(p.name for p in CONFORMANCE.iterdir() if p.name.endswith((".dedit", ".dedit.json"))))


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    """A private copy of the conformance folder (the shared one is read-only)."""
    target = tmp_path_factory.mktemp("conformance") / "conformance"
    shutil.copytree(CONFORMANCE, target, ignore=shutil.ignore_patterns("invalid"))
    return target


@pytest.fixture(scope="module")
def renderer(tiny32, tmp_path_factory):
    # branch reuse off: every render here must execute exactly what its plan costs
    return SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path_factory.mktemp("cache"), reuse_branches=False))


def _plan(docs, name, r, **kw):
    scene = load(docs / name, check_files=True)
    return compile_scene(scene, latent_scale=r.latent_scale, **{"schedule": "fast", "steps": 2, **kw})


@pytest.mark.shared
def test_conformance_set_is_present():
    assert len(DOCUMENTS) >= 8


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_conformance_document_renders_at_canvas_size(docs, renderer, name):
    """(f)"""
    plan = _plan(docs, name, renderer)
    result = renderer.render(plan)
    assert result.image.shape == (plan.canvas.height, plan.canvas.width, 3)
    assert result.image.dtype == np.uint8
    assert result.stats["unet_evals"] == result.stats["inversion_evals"] + result.stats["denoise_evals"]
    assert result.stats["denoise_evals"] == plan.cost.denoise and not result.stats["branch_reuse"]
    assert result.layers["background"].shape == (plan.canvas.height, plan.canvas.width, 4)


def test_the_layers_background_is_decoded_only_when_read(docs, renderer, monkeypatch):
    """A move's decomposition background is the removal branch's clean estimate: one more VAE decode,
    paid by `--layers` and API readers only."""
    decodes = []
    real = renderer.vae.decode
    monkeypatch.setattr(renderer.vae, "decode", lambda z: decodes.append(z.shape) or real(z))
    result = renderer.render(_plan(docs, "move-resize.dedit", renderer))
    assert len(decodes) == 1
    background = result.layers["background"]
    assert len(decodes) == 2 and list(result.layers)[0] == "background"
    assert result.layers["background"] is background and len(decodes) == 2  # built once
    # it is the inpainted background, not the edited picture
    assert not np.array_equal(background[..., :3], result.image)


def _background_at_fusion(renderer, plan, monkeypatch):
    """Render `plan`, recording the removal branch's clean estimate at every step; returns the result and the
    background the fusion step's estimate decodes to (at the canvas size, as the renderer resizes)."""
    from dedit_sdxl import interpreter
    from dedit_sdxl.compose import resize

    seen: dict[int, torch.Tensor] = {}
    real = interpreter.Interpreter.evaluate

    def evaluate(self, step):
        real(self, step)
        if "L0" in self.x0:
            seen[step.index] = self.x0["L0"].clone()

    monkeypatch.setattr(interpreter.Interpreter, "evaluate", evaluate)
    result = renderer.render(plan)
    fusion = max(st.index for st in plan.plan_steps if any(o.kind == "fuse" for o in st.ops))
    assert fusion in seen and 0 in seen and not torch.equal(seen[0], seen[fusion])
    with torch.inference_mode():
        decoded = renderer.vae.decode(seen[fusion])
    return result, resize(decoded, (plan.canvas.width, plan.canvas.height), plan.schedule)


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_an_occlusion_scenes_layers_background_is_the_removal_branch_at_the_fusion_step(docs, renderer, monkeypatch, schedule):
    """Issue 12, 9a: with occlusion the canvas is fused after every step through the fusion step, so the first
    fuse op is at step 0; the exported background is the removal branch at the fusion step (as for a plain
    move), not after step 0."""
    plan = _plan(docs, "occlusion.dedit", renderer, steps=6, schedule=schedule)
    assert sum(1 for st in plan.plan_steps for o in st.ops if o.kind == "fuse") > 1
    result, want = _background_at_fusion(renderer, plan, monkeypatch)
    np.testing.assert_array_equal(result.layers["background"][..., :3], want)


def test_a_moves_layers_background_is_the_removal_branch_at_the_fusion_step(docs, renderer, monkeypatch):
    plan = _plan(docs, "move-resize.dedit", renderer, steps=6)
    result, want = _background_at_fusion(renderer, plan, monkeypatch)
    np.testing.assert_array_equal(result.layers["background"][..., :3], want)


def test_when_nothing_is_removed_the_layers_background_is_the_source_picture(docs, renderer):
    """A composition removes nothing: the fusion starts from the background's trajectory, and the decomposition's
    background is that picture, not the edited one (which holds the layers a second time)."""
    plan = _plan(docs, "compose.dedit", renderer)
    assert not plan.masks["remove@latent"].data.any()
    result = renderer.render(plan)
    source = materialize(plan.image(plan.background), plan.canvas)  # the backdrop on the canvas
    np.testing.assert_array_equal(result.layers["background"][..., :3], source)
    assert not np.array_equal(source, result.image)


def test_outside_the_edit_region_the_source_pixels_come_back(docs, renderer):
    """(c) paste-back: outside edit@canvas the output is the background picture, exactly."""
    plan = _plan(docs, "move-resize.dedit", renderer)
    source = np.asarray(Image.open(docs / "poster.png").convert("RGB"))
    edit = plan.masks[plan.edit_region].data
    outside = edit == 0
    assert outside.mean() > 0.3 and (~outside).any()
    out = renderer.render(plan).image
    np.testing.assert_array_equal(out[outside], source[outside])
    assert np.abs(out[edit == 255].astype(int) - source[edit == 255]).max() > 0  # the edit did change something

    loose = SDXLRenderer(sdxl_options(model=renderer.settings.model, paste_back=False, cache=False))
    free = loose.render(plan).image
    assert not np.array_equal(free[outside], source[outside])  # the VAE alone does not keep pixels


def test_two_renders_of_the_same_scene_are_identical(docs, tiny32, tmp_path):
    """(d) including a second instance served from the on-disk cache."""
    a = SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path / "c"))
    plan = _plan(docs, "remove.dedit", a)
    first = a.render(plan)
    second = SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path / "c")).render(plan)
    assert second.stats["cache_hits"] == len(plan.images) and second.stats["inversion_evals"] == 0
    np.testing.assert_array_equal(first.image, second.image)
    np.testing.assert_array_equal(first.image, a.render(plan).image)


def _move_scene(docs, dx: int) -> Path:
    text = (docs / "move-resize.dedit").read_text().replace('dx="25%"', f'dx="{dx}"')
    path = docs / f"moved-{dx}.dedit"
    path.write_text(text)
    return path


def test_move_only_rerender_costs_fusion_and_harmonisation(docs, tiny32, tmp_path):
    """Issue 4 item 4: at 50 steps a move-only change re-renders in <= 10 UNet evaluations."""
    r = SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path / "c"))
    plans = [compile_scene(load(_move_scene(docs, dx), check_files=True), schedule="fast", steps=50,
                           latent_scale=r.latent_scale) for dx in (96, 160)]
    cold = r.render(plans[0])
    assert not cold.stats["branch_reuse"] and cold.stats["unet_evals"] > 50
    warm = r.render(plans[1])
    assert warm.stats["branch_reuse"]
    assert warm.stats["inversion_evals"] == 0 and 0 < warm.stats["unet_evals"] <= 10

    # the reused state is exact: denoising every step again gives the same picture
    fresh_r = SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path / "c", reuse_branches=False))
    fresh = fresh_r.render(plans[1])
    assert not fresh.stats["branch_reuse"]
    np.testing.assert_array_equal(fresh.image, warm.image)
    assert not np.array_equal(cold.image, warm.image)
    # and so is the decomposition's background, the removal branch at the fusion step (restored, not re-run)
    np.testing.assert_array_equal(fresh.layers["background"], warm.layers["background"])
    np.testing.assert_array_equal(cold.layers["background"], warm.layers["background"])

    # across processes: a new instance finds the branch state in the on-disk cache
    other = SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path / "c")).render(plans[1])
    assert other.stats["branch_reuse"] and other.stats["unet_evals"] <= 10
    np.testing.assert_array_equal(other.image, warm.image)


def test_renders_at_about_the_models_native_size(docs, tmp_path):
    """A factor-8 UNet configured for 32 latent cells (256 px) renders at ~256^2, not SDXL's megapixel."""
    import designedit

    model = build_tiny_sdxl(tmp_path / "tiny8")
    r = SDXLRenderer(sdxl_options(model=str(model), cache_dir=tmp_path / "cache"))
    assert (r.latent_scale, r.native_size) == (8, 256)
    result = designedit.render(
        docs / "remove.dedit", output=tmp_path / "out.png", renderer="sdxl", steps=2,
        options=sdxl_options(model=str(model), cache_dir=tmp_path / "cache", progress=False), announce=None,
    )
    assert result.stats["render_size"] == [320, 192]  # 512x384 at ~256^2, sides multiples of 64
    assert Image.open(tmp_path / "out.png").size == (512, 384)


NOOP_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="1.0">
  <image id="poster" src="poster.png"/>
  <background image="poster"/>
</dedit>
"""


@pytest.mark.parametrize("paste_back, loaded", [(True, False), (False, True)])
def test_a_scene_that_changes_nothing_costs_no_model_call(docs, tiny32, tmp_path, monkeypatch, paste_back, loaded):
    """A background alone: the fast plan's output is the background picture; the renderer returns its pixels
    (with or without paste-back: nothing went through the VAE). A fresh renderer never loads the model (the
    plan compiles from its configs); one that holds it (watch mode) calls no text encoder, UNet or VAE."""
    from designedit.rendering.outputs import read_png_metadata
    from designedit.rendering.session import RenderSession

    shutil.copyfile(docs / "poster.png", tmp_path / "poster.png")
    (tmp_path / "noop.dedit").write_text(NOOP_DOCUMENT)
    options = sdxl_options(model=str(tiny32), cache_dir=tmp_path / "cache", progress=False, paste_back=paste_back)
    session = RenderSession("sdxl", options, announce=None)
    if loaded:
        pipe = session.renderer.model.pipe
        # what the configs said (the plan was compiled from them) is what the loaded pipeline has
        assert session.renderer._config_sizes() == (pipe.vae_scale_factor, pipe.unet.config.sample_size) == (32, 32)

        def boom(*args, **kwargs):
            raise AssertionError("a no-op render called the model")

        for part, name in ((pipe.unet, "forward"), (pipe.vae, "encode"), (pipe.vae, "decode"), (pipe, "encode_prompt")):
            monkeypatch.setattr(part, name, boom)
    out = tmp_path / "out" / "noop.png"
    result = session.render(load(tmp_path / "noop.dedit", check_files=True), output=out)
    stats = result.stats
    assert stats["unet_evals"] == stats["planned_unet_evals"]["total"] == 0
    assert stats["inversion_evals"] == stats["denoise_evals"] == stats["unet_calls"] == 0
    assert stats["model_loaded"] == loaded and (session.renderer._model is not None) == loaded
    assert stats["render_size"] == [1152, 896]  # compiled for the model's native size (32 cells x 32 px)
    source = np.asarray(Image.open(docs / "poster.png").convert("RGB"))
    np.testing.assert_array_equal(result.image, source)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), source)
    meta = read_png_metadata(out)
    assert (meta["renderer"], meta["schedule"], meta["steps"], meta["model"]) == ("sdxl", "fast", "50", str(tiny32))
    # what else decides the pixels: paste-back, and where and in what number format the model runs
    assert (meta["paste-back"], meta["dtype"], meta["device"]) == (str(paste_back).lower(), "float32", "cpu")
    assert (stats["paste_back"], stats["dtype"], stats["device"]) == (paste_back, "float32", "cpu")
    assert stats["model"] == str(tiny32.resolve())  # named as the loaded model is
    np.testing.assert_array_equal(result.layers["background"][..., :3], source)
    assert list(result.layers) == ["background"]


def test_a_scene_that_changes_nothing_does_not_load_a_hub_model_either(docs, tiny32, tmp_path, monkeypatch):
    """The model named by a hub id found in the local Hugging Face cache: its snapshot's configs give the
    latent scale and native size, so the no-op plan compiles and renders without loading it; stats name it
    as a loaded hub model is named (hub:ID@revision), not as a path under the working folder."""
    from designedit.rendering.session import RenderSession

    hub = tmp_path / "hub"
    rev = "89abcdef0123456789abcdef0123456789abcdef"
    hub_cache_with(tiny32, hub, "acme/tiny32", rev, monkeypatch)
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(docs / "poster.png", tmp_path / "poster.png")
    (tmp_path / "noop.dedit").write_text(NOOP_DOCUMENT)

    import dedit_sdxl.loading as loading

    monkeypatch.setattr(loading, "load_model", lambda options: pytest.fail("a no-op render loaded the model"))
    options = sdxl_options(model="acme/tiny32", cache_dir=tmp_path / "cache", progress=False)
    session = RenderSession("sdxl", options, announce=None)
    result = session.render(load(tmp_path / "noop.dedit", check_files=True))
    stats = result.stats
    assert stats["model_loaded"] is False and stats["unet_evals"] == 0
    assert stats["model"] == f"hub:acme/tiny32@{rev}"
    assert stats["render_size"] == [1152, 896]  # the snapshot's configs: 32 cells x 32 px native
    assert result.metadata["model"] == "acme/tiny32"
    np.testing.assert_array_equal(result.image, np.asarray(Image.open(docs / "poster.png").convert("RGB")))


def test_a_prompt_longer_than_the_text_encoders_read_is_a_warning(docs, renderer, tmp_path):
    from dataclasses import replace

    plan = _plan(docs, "remove.dedit", renderer)
    tokenizer = renderer.model.pipe.tokenizer
    short = renderer.render(replace(plan, prompt="a red ball"))
    assert "warnings" not in short.stats
    long_prompt = " ".join(["a red ball on a sunny beach"] * 30)
    n = len(tokenizer(long_prompt, truncation=False, verbose=False).input_ids) - 2
    assert n > tokenizer.model_max_length
    result = renderer.render(replace(plan, prompt=long_prompt))
    assert result.stats["warnings"] == [
        f"the prompt is {n} tokens long; the text encoders read only the first {tokenizer.model_max_length - 2}, the rest is ignored"
    ]


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_fused_projections_compute_what_separate_ones_do(docs, tiny32, tmp_path, schedule):
    """Fused q/k/v (the default on CUDA) and separate projections (the CPU's default) give the same removal,
    key-masked steps included."""
    fused = SDXLRenderer(sdxl_options(model=str(tiny32), cache=False, fuse_projections=True))
    separate = SDXLRenderer(sdxl_options(model=str(tiny32), cache=False))
    plan = _plan(docs, "remove.dedit", fused, schedule=schedule)
    assert any(e.keymask for st in plan.plan_steps for e in st.evals)
    a, b = fused.render(plan), separate.render(plan)
    assert a.stats["fused_projections"] is True and b.stats["fused_projections"] is False
    unet = fused.model.pipe.unet
    assert all(m.fused_projections for n, m in unet.named_modules() if n.endswith("attn1"))
    assert not any(getattr(m, "fused_projections", False) for n, m in separate.model.pipe.unet.named_modules())
    rel = (fused.last_latent - separate.last_latent).norm() / separate.last_latent.norm()
    assert rel < 1e-5, float(rel)
    # and the key masking did act: the same plan with the masks dropped ends elsewhere
    original_set = fused.unet.state.set
    fused.unet.state.set = lambda masks, dtype=None: original_set(None)
    fused.forget()
    fused.render(plan)
    assert (fused.last_latent - separate.last_latent).norm() / separate.last_latent.norm() > 1e-3


def test_offloaded_models_keep_separate_projections(tiny32):
    r = SDXLRenderer(sdxl_options(model=str(tiny32), offload=True, cache=False, fuse_projections=True))
    assert not any(getattr(m, "fused_projections", False) for m in r.model.pipe.unet.modules())


def test_projections_are_fused_by_default_on_cuda_only(tiny32, monkeypatch):
    from diffusers import StableDiffusionXLPipeline

    import dedit_sdxl.attention as attention

    cpu = SDXLRenderer(sdxl_options(model=str(tiny32), cache=False))
    assert cpu.model.device.type == "cpu" and not cpu.unet.fused
    assert attention.fused_count(cpu.model.pipe.unet) == 0
    fused_on = []
    monkeypatch.setattr(attention, "fuse_self_attention", lambda unet: fused_on.append(unet) or 1)
    pipe = StableDiffusionXLPipeline.from_pretrained(str(tiny32))
    # a UNet said to run on CUDA (nothing runs here: graphs off, fusing recorded instead of done)
    SDXLRenderer.from_pipeline(pipe, sdxl_options(cache=False, cuda_graphs=False), device=torch.device("cuda"))
    assert fused_on == [pipe.unet]


def test_a_renderer_over_a_prepared_pipeline_keeps_its_projections(tiny32):
    """Fusing a UNet another renderer prepared would free the weights its captured graphs read."""
    first = SDXLRenderer(sdxl_options(model=str(tiny32), cache=False))
    pipe = first.model.pipe
    second = SDXLRenderer.from_pipeline(pipe, sdxl_options(cache=False, fuse_projections=True))
    assert not second.unet.fused and not any(getattr(m, "fused_projections", False) for m in pipe.unet.modules())
    assert second.unet.state is first.unet.state

    fused = SDXLRenderer(sdxl_options(model=str(tiny32), cache=False, fuse_projections=True))
    follower = SDXLRenderer.from_pipeline(fused.model.pipe, sdxl_options(cache=False, fuse_projections=False))
    assert follower.unet.fused and fused.unet.fused  # what the UNet does, whatever was asked


@pytest.mark.parametrize("schedule", ["reference", "fast"])
def test_the_output_is_resized_to_the_canvas_as_each_schedule_says(docs, tiny32, schedule):
    """The reference as the authors' code does (OpenCV bilinear, no antialiasing), fast with Pillow's."""
    import cv2

    r = SDXLRenderer(sdxl_options(model=str(tiny32), paste_back=False, cache=False))
    plan = _plan(docs, "remove.dedit", r, schedule=schedule)
    assert (plan.render.width, plan.render.height) != (plan.canvas.width, plan.canvas.height)
    result = r.render(plan)
    with torch.inference_mode():
        decoded = r.vae.decode(r.last_latent)
    size = (plan.canvas.width, plan.canvas.height)
    authors = cv2.resize(decoded, size, interpolation=cv2.INTER_LINEAR)
    pillow = np.asarray(Image.fromarray(decoded).resize(size, Image.BILINEAR))
    assert not np.array_equal(authors, pillow)  # the two filters differ on this picture
    np.testing.assert_array_equal(result.image, authors if schedule == "reference" else pillow)


def test_a_pipeline_offloaded_by_its_owner_keeps_separate_projections(tiny32):
    """from_pipeline over a UNet with accelerate's offload hook: fusing would be undone by its moves."""
    from diffusers import StableDiffusionXLPipeline

    pipe = StableDiffusionXLPipeline.from_pretrained(str(tiny32))
    pipe.unet._hf_hook = object()  # what enable_model_cpu_offload leaves on the module
    r = SDXLRenderer.from_pipeline(pipe, sdxl_options(cache=False, fuse_projections=True))
    assert not r.unet.fused and not any(getattr(m, "fused_projections", False) for m in pipe.unet.modules())
    assert r.unet.graphed is None  # and no CUDA graphs for it either


def test_an_offloaded_unet_sees_small_batches_with_the_same_result(docs, tiny32, monkeypatch):
    """--offload is for small GPUs: the reference's batch of 8 (a move) reaches the UNet at most OFFLOAD_BATCH
    samples at a time, and the render is what the whole batch gives."""
    import dedit_sdxl.unet as unet_module

    whole = SDXLRenderer(sdxl_options(model=str(tiny32), cache=False, reuse_branches=False))
    plan = _plan(docs, "move-resize.dedit", whole, schedule="reference")
    assert max(len(st.evals) for st in plan.plan_steps) * 2 > unet_module.OFFLOAD_BATCH
    a = whole.render(plan)
    chunked = SDXLRenderer(sdxl_options(model=str(tiny32), offload=True, cache=False, reuse_branches=False))
    sizes = []
    run = chunked.unet.run
    monkeypatch.setattr(chunked.unet, "run", lambda x, *rest: sizes.append(x.shape[0]) or run(x, *rest))
    b = chunked.render(plan)
    assert max(sizes) == unet_module.OFFLOAD_BATCH and b.stats["unet_evals"] == a.stats["unet_evals"]
    rel = (chunked.last_latent - whole.last_latent).norm() / whole.last_latent.norm()
    assert rel < 1e-5, float(rel)




def test_the_sdxl_renderer_inverts_and_exports_the_layer_stretched_by_width_and_height(docs, renderer, tmp_path, monkeypatch):
    """Issue 12, 9f: the layer picture the model inverts is the one stretched by scale-x / scale-y about the
    box's centre (the image-level affine), and `--layers` exports it so."""
    shutil.copyfile(docs / "poster.png", tmp_path / "poster.png")
    (tmp_path / "stretch.dedit").write_text(stretch_document('scale-x="1.5" scale-y="0.5"'))
    plan = compile_scene(load(tmp_path / "stretch.dedit"), latent_scale=renderer.latent_scale, schedule="fast", steps=2)
    encoded = []
    real = renderer.vae.encode
    monkeypatch.setattr(renderer.vae, "encode", lambda pixels: encoded.append(pixels.copy()) or real(pixels))
    result = renderer.render(plan)

    def green_size(pixels):
        g = (pixels[..., 1] > 150) & (pixels[..., 0] < 100) & (pixels[..., 2] < 120)
        ys, xs = np.nonzero(g)
        return xs.max() - xs.min() + 1, ys.max() - ys.min() + 1

    sx, sy = plan.render.width / plan.canvas.width, plan.render.height / plan.canvas.height
    # the layer's picture (its recipe is this scene's own, so no cache serves it; the background may be)
    (width, height), = [green_size(p) for p in encoded if green_size(p)[0] > 150 * sx]  # not the 120 px original
    assert abs(width - 180 * sx) <= 4 and abs(height - 60 * sy) <= 3, (width, height)
    alpha = result.layers["layer:box"][..., 3] >= 128
    ys, xs = np.nonzero(alpha)
    assert (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) == (180, 60)
