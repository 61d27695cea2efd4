"""`--cuda-graphs`: the renderer's static-buffer plumbing around captured UNet calls.

No CUDA device is here, so capture itself is stood in for by a backend whose
"replay" re-runs the captured function on the static buffers (what a graph
does, kernel by kernel). That checks what is ours: shapes key the captures,
every input (latent, timestep, key masks, prompt embeddings) reaches the
buffers before each replay, outputs are cloned, failures fall back to eager
calls. Whether PyTorch can capture SDXL's UNet is measured by
bench/sdxl_gpu.py on a GPU (bench/RESULTS.md).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

from designedit.compiler import compile_scene
from designedit.io import load
from dedit_sdxl import sdxl_options

from dedit_sdxl import SDXLRenderer, graphs


class ReplayBackend:
    """A stand-in for CUDA graphs: replay runs the captured function again on the same static buffers."""

    def __init__(self) -> None:
        self.warmups = 0
        self.captures = 0
        self.replays = 0

    def warm_up(self, fn, times):
        self.warmups += times
        for _ in range(times):
            fn()

    def capture(self, fn):
        self.captures += 1
        out = fn()

        def replay():
            self.replays += 1
            out.copy_(fn())

        return out, replay


class FailingBackend(ReplayBackend):
    def capture(self, fn):
        raise RuntimeError("operation not permitted when stream is capturing\nmore detail")


def _renderer(model, backend=None):
    r = SDXLRenderer(sdxl_options(model=str(model), cache=False, reuse_branches=False))
    r.model  # load
    if backend is not None:
        r.unet.setup_graphs(backend)
    return r


def _plan(path, r, schedule="fast", steps=3):
    return compile_scene(load(path, check_files=True), latent_scale=r.latent_scale, schedule=schedule, steps=steps)


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_graphed_renders_equal_eager_renders(tiny32, ball_scenes, schedule):
    eager = _renderer(tiny32)
    backend = ReplayBackend()
    graphed = _renderer(tiny32, backend)
    unet_calls = 0
    for name in ("move.dedit", "remove.dedit"):  # two prompts: the embeddings must reach the buffers each call
        plan = _plan(ball_scenes / name, eager, schedule)
        want = eager.render(plan)
        got = graphed.render(plan)
        assert torch.equal(graphed.last_latent, eager.last_latent), name
        np.testing.assert_array_equal(got.image, want.image)
        assert got.stats["unet_evals"] == want.stats["unet_evals"] == plan.cost.total
        assert got.stats["cuda_graphs"] is True and want.stats["cuda_graphs"] is False
        unet_calls += got.stats["unet_calls"]
    # every UNet call was a replay; captures happen once per distinct input shape
    assert backend.replays == unet_calls
    assert backend.captures == len(graphed.unet.graphed.graphs) >= 2


def test_captures_are_reused_and_counted_apart_from_the_plan(tiny32, ball_scenes):
    backend = ReplayBackend()
    r = _renderer(tiny32, backend)
    plan = _plan(ball_scenes / "remove.dedit", r)
    first = r.render(plan).stats
    assert first["capture_evals"] > 0 and first["unet_evals"] == plan.cost.total
    captures = backend.captures
    second = r.render(plan).stats
    assert second["capture_evals"] == 0 and backend.captures == captures
    assert set(second["phase_seconds"]) == {"invert", "denoise", "decode", "compose"}


def test_a_failed_capture_falls_back_to_eager_calls(tiny32, ball_scenes, capfd, notes_on_stderr):
    eager = _renderer(tiny32)
    r = _renderer(tiny32, FailingBackend())
    plan = _plan(ball_scenes / "move.dedit", r)
    got = r.render(plan)
    want = eager.render(plan)
    np.testing.assert_array_equal(got.image, want.image)
    assert r.unet.graphed is None and got.stats["cuda_graphs"] is False
    assert got.stats["capture_evals"] == graphs.WARMUP_CALLS  # the warm-ups before the failed capture
    err = capfd.readouterr().err
    assert err.count("CUDA graph capture failed (operation not permitted when stream is capturing)") == 1


def test_device_timestep_equals_int_timestep(tiny32):
    r = _renderer(tiny32)
    unet = r.model.pipe.unet
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 8, 8, generator=g)
    cond = torch.randn(1, 77, unet.config.cross_attention_dim, generator=g)
    pooled = torch.randn(1, r.model.pipe.text_encoder_2.config.projection_dim, generator=g)
    time_ids = torch.tensor([[64.0, 64, 0, 0, 64, 64]])
    with torch.inference_mode():
        a = r.unet.run(x, 481, None, cond, pooled, time_ids)
        b = r.unet.run(x, torch.tensor(481), None, cond, pooled, time_ids)
    assert torch.equal(a, b)


@pytest.mark.parametrize("flag, note", [(["--cuda-graphs"], True), ([], False), (["--no-cuda-graphs"], False)])
def test_cli_cuda_graphs_on_a_cpu(tiny32, ball_scenes, tmp_path, capsys, flag, note):
    """Asked for on a CPU, graphs are declined in one line; by default (or turned off) nothing is said."""
    from designedit.cli import main

    out = tmp_path / "out.png"
    code = main(["render", str(ball_scenes / "move.dedit"), "-o", str(out), "--renderer", "sdxl", "--model", str(tiny32),
                 "--steps", "2", "--device", "cpu", "--cache-dir", str(tmp_path / "c"), *flag])
    assert code == 0 and out.is_file()
    assert ("--cuda-graphs needs a CUDA device" in capsys.readouterr().err) is note


def test_graphed_unet_keys_by_shape_mask_and_prompt_length():
    calls = []

    def run(x, t, masks, cond, pooled, time_ids):
        calls.append(1)
        base = x * 2 + t.float() + cond.mean() + pooled.mean() + time_ids.mean()
        return base if masks is None else base * (1 - masks)

    backend = ReplayBackend()
    g = graphs.GraphedUNet(run, backend)
    x1, x2 = torch.ones(1, 4, 2, 2), torch.ones(2, 4, 2, 2)
    m2 = torch.zeros(2, 1, 2, 2)
    m2[1, 0, 0, 0] = 1
    c, p, ti = torch.ones(1, 3, 5), torch.ones(1, 2), torch.ones(1, 6)
    for x, t, m, cc in [(x1, 5, None, c), (x1, 7, None, c * 3), (x2, 7, m2, c), (x2, 9, None, c), (x1, 1, None, torch.ones(1, 4, 5))]:
        got = g(x, t, m, cc, p, ti)
        want = run(x, torch.tensor(t), m, cc, p, ti)
        assert torch.equal(got, want)
    assert len(g.graphs) == 4 and backend.captures == 4
    out1 = g(x1, 2, None, c, p, ti)
    out2 = g(x1, 3, None, c, p, ti)
    assert not torch.equal(out1, out2)  # outputs are clones, not the static buffer

    # a bounded number of shapes stays captured; the least recently used goes first
    for n in range(1, graphs.MAX_GRAPHS + 3):
        g(torch.ones(1, 4, n, 1), 1, None, c, p, ti)
    assert len(g.graphs) == graphs.MAX_GRAPHS
    assert (tuple(x1.shape), x1.dtype, None, tuple(c.shape), c.dtype) not in g.graphs


def test_two_renderers_over_one_pipeline_both_key_mask(tiny32, ball_scenes):
    """A second renderer on the same pipeline must not unplug the first one's key masks."""
    first = _renderer(tiny32)
    plan = _plan(ball_scenes / "remove.dedit", first)
    want = first.render(plan)
    second = SDXLRenderer.from_pipeline(first.model.pipe, sdxl_options(cache=False, reuse_branches=False))
    again = first.render(plan)
    np.testing.assert_array_equal(again.image, want.image)
    np.testing.assert_array_equal(second.render(plan).image, want.image)
