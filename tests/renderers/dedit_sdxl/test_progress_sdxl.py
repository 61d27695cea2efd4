"""One progress callback covers a whole SDXL render: inversion (cache misses x steps) and the denoising
steps actually run (a resumed branch state starts late); loading the model is one stderr line, CLI only."""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

torch.set_num_threads(1)  # tiny models: threads only add contention on a shared 2-core machine

from designedit.compiler import compile_scene
from designedit.io import load
from dedit_sdxl import sdxl_options
from shared_paths import CONFORMANCE

from dedit_sdxl import SDXLRenderer

STEPS = 6


@pytest.fixture
def moves(tmp_path):
    """Two plans of the same move scene that differ only in how far the layer moves."""
    text = (CONFORMANCE / "move-resize.dedit").read_text()
    shutil.copytree(CONFORMANCE, tmp_path / "docs", ignore=shutil.ignore_patterns("invalid"))
    plans = []
    for dx in (96, 160):
        path = tmp_path / "docs" / f"moved-{dx}.dedit"
        path.write_text(text.replace('dx="25%"', f'dx="{dx}"'))
        plans.append(compile_scene(load(path, check_files=True), schedule="fast", steps=STEPS, latent_scale=32))
    return plans


class Recorder:
    """progress(done, total) calls, each with how many UNet calls had run by then."""

    def __init__(self, renderer: SDXLRenderer) -> None:
        self.calls: list[tuple[int, int, int]] = []
        self.unet_calls = 0
        run = renderer.unet.run

        def counted(*args, **kwargs):
            self.unet_calls += 1
            return run(*args, **kwargs)

        renderer.unet.run = counted

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total, self.unet_calls))


def _check_shape(calls: list[tuple[int, int, int]], total: int) -> None:
    dones = [d for d, _, _ in calls]
    assert {t for _, t, _ in calls} == {total}, "one total, known from the first call"
    assert dones[0] == 0 and dones[-1] == total
    assert all(b > a for a, b in zip(dones, dones[1:])), "done only grows"


def test_a_cold_render_ticks_through_inversion_then_denoising(tiny32, moves, tmp_path):
    r = SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path / "cache", progress=False))
    rec = Recorder(r)
    stats = r.render(moves[0], progress=rec).stats
    misses = stats["cache_misses"]
    assert misses >= 1 and stats["inversion_evals"] == misses * STEPS and stats["resumed_at_step"] is None
    total = misses * STEPS + STEPS
    _check_shape(rec.calls, total)
    # one tick per inversion step (of `misses` images each), as it runs, then one per plan step
    inversion = rec.calls[1 : STEPS + 1]
    assert [(d, c) for d, _, c in inversion] == [(misses * k, k) for k in range(1, STEPS + 1)]
    assert [d for d, _, _ in rec.calls[STEPS + 1 :]] == [misses * STEPS + k for k in range(1, STEPS + 1)]


def test_a_warm_render_resumed_late_ticks_only_what_it_runs(tiny32, moves, tmp_path):
    r = SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path / "cache", progress=False))
    r.render(moves[0])
    rec = Recorder(r)
    stats = r.render(moves[1], progress=rec).stats
    assert stats["cache_misses"] == 0 and stats["inversion_evals"] == 0
    resumed = stats["resumed_at_step"]
    assert stats["branch_reuse"] and resumed > 0
    _check_shape(rec.calls, STEPS - resumed)
    assert len(rec.calls) == 1 + STEPS - resumed  # no inversion tick, one per plan step run


def test_loading_the_model_is_one_line_only_when_progress_is_shown(tiny32, moves, tmp_path, capsys, notes_on_stderr):
    quiet = SDXLRenderer(sdxl_options(model=str(tiny32), cache=False, progress=False))
    assert quiet.latent_scale == 32 and quiet.model is not None
    assert capsys.readouterr().err == ""

    shown = SDXLRenderer(sdxl_options(model=str(tiny32), cache=False, progress=True))
    shown.model
    shown.model
    err = capsys.readouterr().err
    assert err == f"loading model {tiny32} ...\n"


class PhaseRecorder(Recorder):
    """Also records the phases (label, done, total), as designedit.rendering.session.Progress receives them."""

    def __init__(self, renderer: SDXLRenderer) -> None:
        super().__init__(renderer)
        self.phases: list[tuple[str, int, int]] = []

    def phase(self, label: str, done: int, total: int) -> None:
        self.phases.append((label, done, total))


def test_each_phase_counts_its_own_steps(tiny32, moves, tmp_path):
    r = SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=tmp_path / "cache", progress=False))
    rec = PhaseRecorder(r)
    misses = r.render(moves[0], progress=rec).stats["cache_misses"]
    pictures = f"inverting {misses} picture{'s' if misses > 1 else ''}"
    assert rec.phases == ([(pictures, k, STEPS) for k in range(STEPS + 1)]
                          + [("denoising", k, STEPS) for k in range(STEPS + 1)])

    warm = PhaseRecorder(r)
    resumed = r.render(moves[1], progress=warm).stats["resumed_at_step"]
    label = f"denoising from step {resumed} (a remembered branch state)"
    assert warm.phases == [(label, k, STEPS - resumed) for k in range(STEPS - resumed + 1)]


def test_the_command_line_labels_the_phases_and_writes_lines_to_a_log(tiny32, ball_scenes, tmp_path, monkeypatch, capsys):
    """`--steps 10` away from a terminal: inversion and denoising each count to 10 (the bar counted to their
    sum), in lines rather than a redrawn bar."""
    import designedit.rendering.session as rendering
    from designedit.cli import main

    monkeypatch.setattr(rendering, "PROGRESS_DELAY_S", 0)  # the tiny model may finish within the usual second
    out = tmp_path / "move.png"
    assert main(["render", str(ball_scenes / "move.dedit"), "--model", str(tiny32), "--steps", "10",
                 "--cache-dir", str(tmp_path / "cache"), "-o", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == [f"renderer: sdxl (model from --model {tiny32})", f"loading model {tiny32} ..."]
    assert err[2:] == ([f"sdxl render: inverting 1 picture: step {k} of 10" for k in range(1, 11)]
                       + [f"sdxl render: denoising: step {k} of 10" for k in range(1, 11)])
