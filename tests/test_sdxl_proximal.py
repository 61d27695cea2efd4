"""Proximal guidance's quantile pool: zeros stand in for branches whose halves agree."""

from types import SimpleNamespace

import numpy as np
import torch

from dedit_sdxl.interpreter import Interpreter
from designedit.compiler import compile_scene
from designedit.plan import LatentRef, MaskData, ProximalOp

import compiler_scenes as cs


def _interpreter(deltas):
    g = torch.Generator().manual_seed(0)
    interp = Interpreter.__new__(Interpreter)
    interp.plan = SimpleNamespace(masks={"m@latent": MaskData("m@latent", np.zeros((8, 8), np.uint8))})
    interp.device = torch.device("cpu")
    interp._masks = {}
    interp.latents = {"L0": torch.randn(1, 4, 8, 8, generator=g)}
    interp.deltas = deltas
    interp.trajectories = {"bg": torch.randn(3, 4, 8, 8, generator=g)}
    return interp


def _op(pool, zeros):
    return ProximalOp("L0", mask="m@latent", trajectory=LatentRef(inversion="bg", index=1),
                      scale=0.1, quantile=0.75, pool=tuple(pool), pool_zeros=zeros)


def test_pool_zeros_equal_pooling_branches_with_zero_delta():
    d = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    interp = _interpreter({"L0": d, "S": torch.zeros_like(d), "C": torch.zeros_like(d)})
    pooled = interp.proximal(_op(["L0", "S", "C"], 0))
    assert torch.equal(interp.proximal(_op(["L0"], 2)), pooled)
    assert not torch.equal(interp.proximal(_op(["L0"], 0)), pooled)  # the threshold really moves


def test_fast_plans_pool_as_many_zeros_as_the_reference_batch_has_other_branches(tmp_path):
    scene = cs.operation_scenes(cs.copy_pictures(tmp_path))["move"]
    fast = compile_scene(scene, schedule="fast")
    ref = compile_scene(scene, schedule="reference")
    ref_batch = len(ref.plan_steps[-1].evals)
    prox = [o for s in fast.plan_steps for o in s.ops if o.kind == "proximal"]
    assert prox and all(o.pool == ("L0",) and o.pool_zeros == ref_batch - 1 for o in prox)


def test_quantile_beyond_torchs_input_limit_equals_torchs(monkeypatch):
    import dedit_sdxl.interpreter as interpreter

    x = torch.randn(10_001, generator=torch.Generator().manual_seed(2)).double().abs()
    expected = torch.quantile(x, 0.75)
    monkeypatch.setattr(interpreter, "TORCH_QUANTILE_LIMIT", 1000)  # take the large-input path
    assert torch.allclose(interpreter.quantile(x, 0.75), expected, rtol=0, atol=1e-12)
