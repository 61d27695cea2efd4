"""Property tests over generated scenes (hypothesis).

- the removal mask covers every cut layer's original mask (canvas and latent);
- in the fast schedule nothing is evaluated once nothing reads it, and nothing
  is used after its drop;
- the reference schedule costs T (1 + N) + 2 T (2 + [N > 0] + N) for any N, T.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from compiler_scenes import copy_pictures, scene
from designedit import masks as M
from designedit.model import scene as m
from designedit.compiler import compile_scene
from designedit.compiler.costs import reference_formula
from designedit.plan.ops import latent_reads

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return copy_pictures(tmp_path_factory.mktemp("props"))


transforms = st.lists(
    st.one_of(
        st.builds(m.Move, dx=st.integers(-200, 200), dy=st.integers(-150, 150)),
        st.builds(m.Resize, scale=st.floats(0.4, 1.6)),
        st.builds(m.Flip, axis=st.sampled_from(["horizontal", "vertical"])),
        st.builds(m.Rotate, degrees=st.integers(-180, 180)),
    ),
    max_size=3,
)


@st.composite
def scenes(draw):
    n = draw(st.integers(0, 4))
    masks, layers = [], []
    for i in range(n):
        cx, cy = draw(st.integers(60, 450)), draw(st.integers(60, 320))
        rx, ry = draw(st.integers(8, 50)), draw(st.integers(8, 50))
        masks.append(m.Mask(id=f"m{i}", shapes=[m.Ellipse(cx=cx, cy=cy, rx=rx, ry=ry)], grow=draw(st.integers(-2, 4))))
        layers.append(
            m.Layer(
                id=f"l{i}",
                image=draw(st.sampled_from(["poster", "poster", "backdrop"])),
                mask=f"m{i}",
                keep=draw(st.booleans()),
                transforms=draw(transforms),
            )
        )
    edits = []
    for j in range(draw(st.integers(0, 2))):
        masks.append(m.Mask(id=f"r{j}", shapes=[m.Rect(x=draw(st.integers(0, 480)), y=draw(st.integers(0, 350)), width=20, height=15)]))
        edits.append(m.Remove(mask=f"r{j}"))
    return dict(
        images=[m.Image(id="poster", src="poster.png"), m.Image(id="backdrop", src="backdrop.png")],
        masks=masks,
        background=m.Background(image="poster", edits=edits),
        layers=layers,
    )


@SETTINGS
@given(fields=scenes(), schedule=st.sampled_from(["fast", "reference"]))
def test_removal_covers_every_cut_layer(folder, fields, schedule):
    sc = scene(folder, **fields)
    plan = compile_scene(sc, schedule=schedule, steps=6)
    resolve = M.MaskResolver(sc, 512, 384)
    removal_canvas = plan.masks["remove@canvas"].data
    removal_latent = plan.masks["remove@latent"].data
    for layer in sc.layers:
        original = resolve(layer.mask)
        cut = layer.image == "poster" and not layer.keep
        if not cut:
            continue
        assert (removal_canvas[original >= 128] > 0).all()
        if schedule == "fast":
            cells = M.any_coverage(M.binary(original), plan.latent.width, plan.latent.height)
        else:
            cells = M.reference_latent([original], 1, (1024, 1024), 8)
        assert not (cells & (1 - removal_latent)).any()


def _problems(plan) -> list[str]:
    """Evals whose result nothing reads, and uses after a drop."""
    events: dict[str, list[tuple[str, int]]] = {}

    def add(branch, kind, s):
        events.setdefault(branch, []).append((kind, s))

    for st_ in plan.plan_steps:
        for e in st_.evals:
            add(e.branch, "eval", st_.index)
        for o in st_.ops:
            for ref in latent_reads(o):
                if ref.branch:
                    add(ref.branch, "read", st_.index)
            if o.kind in ("fuse", "set"):
                add(o.target, "overwrite", st_.index)
            elif o.kind == "drop":
                add(o.target, "drop", st_.index)
            else:  # blend / proximal modify the target in place
                add(o.target, "modify", st_.index)
    add(plan.output, "read", plan.steps)
    problems = []
    for branch, evs in events.items():
        dropped = [i for i, (k, _) in enumerate(evs) if k == "drop"]
        if dropped and any(k != "drop" for k, _ in evs[dropped[0] + 1 :]):
            problems.append(f"{branch} used after its drop")
        for i, (kind, s) in enumerate(evs):
            if kind != "eval":
                continue
            nxt = next((k for k, _ in evs[i + 1 :] if k in ("read", "overwrite", "drop")), None)
            if nxt != "read":
                problems.append(f"{branch} evaluated at step {s} but not read afterwards ({nxt})")
    return problems


@SETTINGS
@given(fields=scenes(), steps=st.sampled_from([3, 10, 50]))
def test_fast_evaluates_nothing_unread(folder, fields, steps):
    plan = compile_scene(scene(folder, **fields), schedule="fast", steps=steps)
    assert _problems(plan) == []
    assert all(e.halves == ["cond"] or e.keymask for st_ in plan.plan_steps for e in st_.evals)


def test_the_unread_checker_catches_waste(folder):
    """The reference schedule evaluates S after its last blend: the checker must see it."""
    sc = scene(folder, masks=[m.Mask(id="b", src="ball-mask.png")], layers=[m.Layer(id="b", image="poster", mask="b")])
    assert any("S evaluated at step 49" in p for p in _problems(compile_scene(sc, schedule="reference", steps=50)))


@SETTINGS
@given(fields=scenes(), steps=st.integers(1, 60))
def test_reference_costs_follow_the_formula(folder, fields, steps):
    plan = compile_scene(scene(folder, **fields), schedule="reference", steps=steps)
    f = reference_formula(steps, len(fields["layers"]))
    assert (plan.cost.inversion, plan.cost.denoise) == (f.inversion, f.denoise)
    assert plan.cost.total == plan.cost.inversion + plan.cost.denoise
