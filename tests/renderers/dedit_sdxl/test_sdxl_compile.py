"""`--compile`: the UNet through torch.compile (diffusers' regional compilation, or the whole UNet).

Renders here use a torch.compile backend that records the graphs Dynamo hands it
and runs them as traced (the same operations, so the same numbers): that checks
what is ours (which modules are compiled, that every UNet call goes through them
with key masks and without, full graphs, the fallback when compiling fails)
without minutes of kernel generation. One test compiles with inductor, PyTorch's
own backend, and compares its calls with the uncompiled UNet's. How much faster
compiled calls are on a GPU is measured by bench/sdxl_gpu.py --compile
(bench/RESULTS.md).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

from designedit.compiler import compile_scene
from designedit.io import load
from dedit_sdxl import sdxl_options

from dedit_sdxl import SDXLRenderer
from dedit_sdxl import unet as sdxl_unet
from dedit_sdxl.attention import attention_levels


class RecordingBackend:
    """A torch.compile backend that keeps each FX graph it is given and runs it as traced."""

    def __init__(self) -> None:
        self.graphs = []

    def __call__(self, gm, example_inputs):
        self.graphs.append(gm)
        return gm.forward


def failing_backend(gm, example_inputs):
    raise RuntimeError("no C++ compiler found\nsecond line")


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _renderer(model, compile_mode=None):
    extra = {"cache": False, "reuse_branches": False}
    if compile_mode:
        extra["compile"] = compile_mode
    r = SDXLRenderer(sdxl_options(model=str(model), **extra))
    r.model  # load (and compile, lazily)
    return r


def _plan(path, r, schedule):
    return compile_scene(load(path, check_files=True), latent_scale=r.latent_scale, schedule=schedule, steps=3)


# each mode once (tracing the UNet takes seconds per shape); the two schedules between them make every
# kind of call: batch 1 unmasked, 2 masked (fast), 2 unmasked, 8 masked (reference)
@pytest.mark.parametrize("mode, schedule", [("blocks", "reference"), ("unet", "fast")])
def test_compiled_renders_equal_uncompiled_renders(tiny32, ball_scenes, monkeypatch, mode, schedule):
    backend = RecordingBackend()
    monkeypatch.setattr(sdxl_unet, "COMPILE_BACKEND", backend)
    plain = _renderer(tiny32)
    compiled = _renderer(tiny32, mode)
    plan = _plan(ball_scenes / "move.dedit", plain, schedule)
    want = plain.render(plan)
    got = compiled.render(plan)
    assert got.stats["compiled"] == mode and want.stats["compiled"] is None
    assert got.stats["unet_evals"] == want.stats["unet_evals"] == plan.cost.total
    torch.testing.assert_close(compiled.last_latent, plain.last_latent, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got.image.astype(int), want.image.astype(int), atol=1)
    assert backend.graphs, "nothing went through torch.compile"
    # key masks reached the compiled code: some graph multiplies a key by (1 - M), others do not
    masked = [g for g in backend.graphs if "keep" in g.code or "masks" in g.code]
    assert masked and len(masked) < len(backend.graphs)
    if mode == "blocks":  # only the transformer blocks are compiled: their graphs hold no convolution
        assert not any("conv2d" in g.code for g in backend.graphs)
    else:  # one graph per UNet input shape: the whole UNet, convolutions included, without breaks
        assert all("conv2d" in g.code for g in backend.graphs)
        shapes = {(plan_step_batch, masked) for plan_step_batch, masked in _call_kinds(plan)}
        assert len(backend.graphs) == len(shapes)


def _call_kinds(plan):
    """(batch, key-masked) of every UNet call a plan makes: inversion calls, then one per step with evals."""
    kinds = set()
    inverted = len(list(plan.inverted_images()))
    if inverted:
        kinds.add((inverted if plan.schedule == "reference" else 1, False))
    for step in plan.plan_steps:
        if step.evals:
            batch = sum(len(e.halves) for e in step.evals)
            kinds.add((batch, any(e.keymask for e in step.evals)))
    return kinds


def test_a_failed_compile_is_said_once_and_the_unet_runs_uncompiled(tiny32, ball_scenes, monkeypatch, capfd, notes_on_stderr):
    monkeypatch.setattr(sdxl_unet, "COMPILE_BACKEND", failing_backend)
    plain = _renderer(tiny32)
    r = _renderer(tiny32, "blocks")
    plan = _plan(ball_scenes / "move.dedit", plain, "fast")
    want = plain.render(plan)
    got = r.render(plan)
    torch.testing.assert_close(r.last_latent, plain.last_latent, rtol=0, atol=0)
    assert got.stats["compiled"] is None and got.stats["unet_evals"] == want.stats["unet_evals"]
    err = capfd.readouterr().err
    assert err.count("torch.compile failed") == 1 and "no C++ compiler found" in err
    again = r.render(plan)  # still uncompiled, nothing said again
    assert again.stats["compiled"] is None and "torch.compile" not in capfd.readouterr().err


def test_reaching_the_recompile_limit_falls_back_too(tiny32, ball_scenes, monkeypatch, capfd, notes_on_stderr):
    """Past torch.compile's graph limit a full-graph compile raises; the render goes on uncompiled."""
    monkeypatch.setattr(sdxl_unet, "COMPILE_BACKEND", RecordingBackend())
    plain = _renderer(tiny32)
    r = _renderer(tiny32, "unet")
    assert torch._dynamo.config.recompile_limit >= sdxl_unet.RECOMPILE_LIMIT
    plan = _plan(ball_scenes / "move.dedit", plain, "fast")  # two input shapes: the second is past a limit of 1
    want = plain.render(plan)
    with torch._dynamo.config.patch(recompile_limit=1):
        got = r.render(plan)
    torch.testing.assert_close(r.last_latent, plain.last_latent, rtol=1e-5, atol=1e-5)
    assert got.stats["compiled"] is None and got.stats["unet_evals"] == want.stats["unet_evals"]
    assert capfd.readouterr().err.count("torch.compile failed") == 1


def test_key_masks_are_ready_before_the_unet_runs(tiny32):
    """The processors find every level's multiplier computed (a compiled UNet must not see the memo grow)."""
    r = _renderer(tiny32)
    unet = r.model.pipe.unet
    state = r.unet.state
    assert state.levels == attention_levels(unet) == (1,)  # the tiny32 UNet attends at its second level only
    seen, inside = [], []
    original_keep, original_set = state.keep, state.set

    def keep(seq_len, dtype):
        if inside:  # asked by a processor, not by set() itself
            seen.append((seq_len, seq_len in state._keep))
        return original_keep(seq_len, dtype)

    def set_(masks, dtype=None):
        inside.clear()
        original_set(masks, dtype)
        inside.append(masks is not None)

    state.keep, state.set = keep, set_
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 8, 6, generator=g)
    masks = (torch.rand(2, 1, 8, 6, generator=g) > 0.5).float()
    cond = torch.randn(1, 77, unet.config.cross_attention_dim, generator=g)
    pooled = torch.randn(1, r.model.pipe.text_encoder_2.config.projection_dim, generator=g)
    with torch.inference_mode():
        r.unet.run(x, torch.tensor(500), masks, cond, pooled, torch.tensor([[64.0, 48, 0, 0, 64, 48]]))
    assert seen and all(ready for _, ready in seen) and {n for n, _ in seen} == {4 * 3}


def test_inversion_alone_compiles_once_per_shape(tiny32, ball_scenes, monkeypatch):
    """trajectories() hands the UNet device timesteps too: an int would be a new constant (graph) per step."""
    backend = RecordingBackend()
    monkeypatch.setattr(sdxl_unet, "COMPILE_BACKEND", backend)
    r = _renderer(tiny32, "unet")
    plan = compile_scene(load(ball_scenes / "move.dedit", check_files=True), latent_scale=r.latent_scale, schedule="fast",
                         steps=12)
    r.trajectories(plan)
    assert len(backend.graphs) == 1


def test_a_second_renderer_over_a_compiled_unet_keeps_and_reports_it(tiny32, ball_scenes, monkeypatch, capfd, notes_on_stderr):
    monkeypatch.setattr(sdxl_unet, "COMPILE_BACKEND", RecordingBackend())
    first = _renderer(tiny32, "blocks")
    second = SDXLRenderer.from_pipeline(first.model.pipe, sdxl_options(cache=False))
    third = SDXLRenderer.from_pipeline(first.model.pipe, sdxl_options(cache=False, compile="unet"))
    assert first.unet.compiled == second.unet.compiled == third.unet.compiled == "blocks"
    assert "already compiled as --compile blocks; that is kept" in capfd.readouterr().err


def test_the_compile_mode_is_checked_before_the_model_loads(tmp_path):
    from designedit.errors import DeditError

    with pytest.raises(DeditError, match="compile must be one of blocks, unet, not 'all'"):
        SDXLRenderer(sdxl_options(model=str(tmp_path / "nothing-here"), compile="all"))


def test_compile_is_declined_with_offload(tiny32, capfd, notes_on_stderr):
    pipe = _renderer(tiny32).model.pipe
    r = SDXLRenderer.from_pipeline(pipe, sdxl_options(offload=True, compile="unet", cache=False))
    assert r.unet.compiled is None
    assert "--compile cannot trace a model that --offload moves" in capfd.readouterr().err


def test_inductor_compiled_calls_match_the_uncompiled_unet(tiny32):
    """PyTorch's own backend on the key-masking processors: masked and unmasked calls, blocks compiled."""
    plain = _renderer(tiny32)
    compiled = _renderer(tiny32, "blocks")
    assert sdxl_unet.COMPILE_BACKEND == "inductor"
    g = torch.Generator().manual_seed(3)
    unet = plain.model.pipe.unet
    cond = torch.randn(1, 77, unet.config.cross_attention_dim, generator=g)
    pooled = torch.randn(1, plain.model.pipe.text_encoder_2.config.projection_dim, generator=g)
    time_ids = torch.tensor([[64.0, 64, 0, 0, 64, 64]])
    x = torch.randn(2, 4, 8, 8, generator=g)
    masks = torch.zeros(2, 1, 8, 8)
    masks[1, :, 2:6, 3:7] = 1
    before = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    with torch.inference_mode():
        for m in (masks, None):
            want = plain.unet.run(x, torch.tensor(481), m, cond, pooled, time_ids)
            got = compiled.unet.run(x, torch.tensor(481), m, cond, pooled, time_ids)
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
        # the masked call differs from the unmasked one in the masked sample only
        a = compiled.unet.run(x, torch.tensor(481), masks, cond, pooled, time_ids)
        b = compiled.unet.run(x, torch.tensor(481), None, cond, pooled, time_ids)
    torch.testing.assert_close(a[0], b[0], rtol=1e-4, atol=1e-4)
    assert not torch.allclose(a[1], b[1], atol=1e-3)
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > before  # inductor compiled something


def test_cli_compile_flag(tiny32, ball_scenes, tmp_path, monkeypatch, capsys):
    from designedit.cli import main

    backend = RecordingBackend()
    monkeypatch.setattr(sdxl_unet, "COMPILE_BACKEND", backend)
    out, stats = tmp_path / "out.png", tmp_path / "stats.json"
    code = main(["render", str(ball_scenes / "move.dedit"), "-o", str(out), "--renderer", "sdxl", "--model", str(tiny32),
                 "--steps", "2", "--device", "cpu", "--cache-dir", str(tmp_path / "c"), "--compile", "blocks",
                 "--stats", str(stats)])
    assert code == 0 and out.is_file() and backend.graphs
    assert json.loads(stats.read_text())["compiled"] == "blocks"
    assert "--compile blocks: the first call of each picture size and batch compiles the UNet" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exc:
        main(["render", str(ball_scenes / "move.dedit"), "--compile", "everything"])
    assert exc.value.code == 2
    assert "invalid choice: 'everything'" in capsys.readouterr().err

    code = main(["render", str(ball_scenes / "move.dedit"), "-o", str(tmp_path / "p.png"), "--renderer", "preview",
                 "--compile", "blocks"])
    assert code == 0
    assert "the preview renderer ignores --compile" in capsys.readouterr().err


def test_notes_are_logged_and_the_library_prints_none(tiny32, capfd, caplog):
    pipe = _renderer(tiny32).model.pipe
    SDXLRenderer.from_pipeline(pipe, sdxl_options(offload=True, compile="unet", cache=False))
    assert capfd.readouterr().err == ""  # no handler installed: nothing on stderr
    assert [r.name for r in caplog.records if "--compile cannot trace" in r.getMessage()] == ["dedit.sdxl.unet"]
