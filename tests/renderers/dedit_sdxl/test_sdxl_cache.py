"""The inversion cache under an SDXL render (the tiny model): damaged entries are found, discarded with a
warning and recomputed; two renders can share one cache folder at the same time."""

from __future__ import annotations

import os
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # tiny models: threads only add contention on a shared 2-core machine

from PIL import Image

from designedit.rendering.cache import Cache, _unwrap
from designedit.compiler import compile_scene
from designedit.io import load
from dedit_sdxl import sdxl_options

from dedit_sdxl import SDXLRenderer

STEPS = 4
WAIT = 600  # a guard against a hang on a loaded machine, not a speed limit


def entries(root) -> list:
    return sorted(path for _, _, path in Cache(root).entries())


def damage(path, how: str) -> None:
    raw = path.read_bytes()
    if how == "cut short":
        path.write_bytes(raw[: len(raw) // 2])
    else:
        flipped = bytearray(raw)
        flipped[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(flipped))


@pytest.mark.parametrize("how", ["cut short", "its checksum does not match"])
def test_a_damaged_entry_is_discarded_with_a_warning_and_recomputed(tiny32, ball_scenes, tmp_path, how):
    cache = tmp_path / "cache"
    plan = compile_scene(load(ball_scenes / "move.dedit", check_files=True), schedule="fast", steps=STEPS, latent_scale=32)
    renderer = SDXLRenderer(sdxl_options(model=str(tiny32), cache_dir=cache))
    cold = renderer.render(plan)
    stored = entries(cache)  # the source picture's inversion and the branch state at the fusion step
    assert len(stored) == 2 and "warnings" not in cold.stats
    for path in stored:
        damage(path, how)

    renderer.forget()  # what it keeps in memory: the next render must read the cache on disk
    warm = renderer.render(plan)
    assert warm.stats["cache_misses"] == cold.stats["cache_misses"] == 1  # recomputed, not read damaged
    assert warm.stats["inversion_evals"] == cold.stats["inversion_evals"] and warm.stats["resumed_at_step"] is None
    assert sorted(warm.stats["warnings"]) == sorted(
        f"the cache entry {path} was damaged ({how}); it was discarded and what it held is computed again" for path in stored)
    assert np.array_equal(warm.image, cold.image)
    assert entries(cache) == stored and all(_unwrap(path.read_bytes())[0] is not None for path in stored)  # rewritten whole

    renderer.forget()
    again = renderer.render(plan)  # and now served from the repaired entries
    assert again.stats["cache_hits"] == 1 and "warnings" not in again.stats and np.array_equal(again.image, cold.image)


def test_the_command_line_prints_the_warning(tiny32, ball_scenes, tmp_path, capsys):
    from designedit.cli import main

    args = ["render", str(ball_scenes / "move.dedit"), "--model", str(tiny32), "--steps", str(STEPS),
            "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "move.png")]
    assert main(args) == 0
    (first, *_) = entries(tmp_path / "cache")
    damage(first, "cut short")
    capsys.readouterr()
    assert main(args) == 0
    err = capsys.readouterr().err.splitlines()
    assert (f"warning: the cache entry {first} was damaged (cut short); it was discarded and what it held is computed "
            "again") in err


def test_two_renders_sharing_one_cache_folder_at_once_both_succeed_alike(tiny32, ball_scenes, tmp_path):
    """Two processes, started together on one empty cache folder, invert the same picture and store the same
    entries at about the same moment: both finish, with the same picture, and every entry is whole."""
    cache = tmp_path / "shared-cache"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env.pop("DEDIT_DEBUG_PAUSE", None)
    runs = [subprocess.Popen([sys.executable, "-m", "designedit", "render", str(ball_scenes / "move.dedit"), "--model",
                              str(tiny32), "--steps", str(STEPS), "--cache-dir", str(cache), "-o", str(tmp_path / f"{n}.png")],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    done = []
    for run in runs:
        _, err = run.communicate(timeout=WAIT)
        done.append((run.returncode, err))
    assert [status for status, _ in done] == [0, 0], done
    assert not any("warning" in err for _, err in done)
    pictures = [np.asarray(Image.open(tmp_path / f"{n}.png")) for n in (1, 2)]
    assert np.array_equal(pictures[0], pictures[1])
    stored = entries(cache)
    assert len(stored) == 2 and all(_unwrap(path.read_bytes())[0] is not None for path in stored)
    assert [p for p in cache.rglob("*") if p.is_file() and p.suffix != ".bin"] == []  # no temporary file left
