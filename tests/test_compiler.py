"""The compiler: schedules as method.md 3-8 states them, sizes, transforms, lowering, costs."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from compiler_scenes import BALL, BOX, STAMP, ball_layer, copy_pictures, operation_scenes, scene
from designedit import masks as M
from designedit.model import scene as m
from designedit.compiler import compile_scene
from designedit.compiler.costs import reference_formula
from designedit.compiler.sizes import render_size
from designedit.compiler.windows import Windows
from designedit.errors import SceneError
from designedit.plan.recipes import materialize
from designedit.plan import ImageOp, PanOp, Plan, Size, ZoomOutOp
from designedit.plan.codec import encode
from designedit.plan.ops import mask_reads


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return copy_pictures(tmp_path_factory.mktemp("pics"))


@pytest.fixture(scope="module")
def ops(folder):
    return operation_scenes(folder)


def evals_at(plan, s):
    return {e.branch: e for e in plan.plan_steps[s].evals}


def ops_at(plan, s, kind=None):
    return [o for o in plan.plan_steps[s].ops if kind is None or o.kind == kind]


# ---------------------------------------------------------------- windows and sizes


def test_windows_at_50_steps_are_the_reference_numbers():
    w = Windows.for_steps(50)
    assert (w.key.start, w.key.stop - 1) == (1, 39)
    assert (w.refine.start, w.refine.stop - 1) == (1, 25)
    assert (w.blend.start, w.blend.stop - 1) == (0, 40)
    assert w.fusion == 41


@pytest.mark.parametrize("steps", [1, 2, 5, 10, 20, 25, 30, 100, 200])
def test_windows_scale_with_the_step_count(steps):
    w = Windows.for_steps(steps)
    assert 0 <= w.fusion < steps
    assert all(s < w.fusion for s in w.blend)
    assert w.key.stop <= steps and w.refine.stop <= w.key.stop
    if steps >= 10:
        assert abs(w.fusion / steps - 41 / 50) <= 0.5 / steps + 1e-9
        assert abs(w.key.stop / steps - 40 / 50) <= 0.5 / steps + 1e-9


def test_render_size_rule():
    assert render_size(Size(512, 384), "reference", 8) == Size(1024, 1024)
    assert render_size(Size(512, 512), "fast", 8) == Size(1024, 1024)
    assert render_size(Size(3000, 3000), "fast", 8) == Size(1024, 1024)
    fast = render_size(Size(512, 384), "fast", 8)
    assert fast == Size(1152, 896)
    portrait = render_size(Size(640, 1024), "fast", 8)
    assert portrait.width % 64 == 0 and portrait.height % 64 == 0 and portrait.height > portrait.width
    assert abs(portrait.width * portrait.height / 2**20 - 1) < 0.15
    assert abs(portrait.width / portrait.height - 640 / 1024) < 0.05


# ---------------------------------------------------------------- the reference schedule


def test_reference_removal_costs_250_and_outputs_l0(ops):
    plan = compile_scene(ops["remove"], schedule="reference")
    assert (plan.cost.inversion, plan.cost.denoise, plan.cost.total) == (50, 200, 250)
    assert plan.output == "L0" and plan.render == Size(1024, 1024)
    assert [b.id for b in plan.branches] == ["S", "L0"]
    assert [i.id for i in plan.images] == ["bg"]


def test_reference_move_follows_method_3_to_8(ops):
    plan = compile_scene(ops["move"], schedule="reference")
    assert (plan.cost.inversion, plan.cost.denoise) == (100, 400)
    assert [b.id for b in plan.branches] == ["S", "L0", "C", "L1"]
    assert plan.output == "C"
    assert [i.id for i in plan.images] == ["bg", "layer:ball"]  # no dedup, like the authors
    for st in plan.plan_steps:
        assert [e.branch for e in st.evals] == ["S", "L0", "C", "L1"]
        assert all(e.halves == ["uncond", "cond"] for e in st.evals)
        keyed = {e.branch: e.keymask for e in st.evals if e.keymask}
        assert keyed == ({"L0": "remove@latent"} if 1 <= st.index <= 39 else {})
        blends = ops_at(plan, st.index, "blend")
        assert bool(blends) == (st.index + 1 <= 41)
        for b in blends:
            assert (b.target, b.source.branch, b.mask) == ("L0", "S", "remove@latent")
        fuses = ops_at(plan, st.index, "fuse")
        assert bool(fuses) == (st.index == 41)
        prox = ops_at(plan, st.index, "proximal")
        assert bool(prox) == (st.timestep < 400)
        if prox:
            assert [p.target for p in prox] == ["S", "L0", "C", "L1"]
            assert {p.target: p.mask for p in prox} == {"S": None, "L0": "remove@latent", "C": "*", "L1": None}
            assert all(p.trajectory.index == 50 - st.index - 1 and p.scale == 0.1 and p.quantile == 0.75 for p in prox)
            assert {p.target: p.trajectory.inversion for p in prox} == {"S": "bg", "L0": "bg", "C": "bg", "L1": "layer:ball"}
            kinds = [o.kind for o in st.ops]
            assert kinds.index("proximal") < kinds.index("blend") if "blend" in kinds else True
    assert min(st.index for st in plan.plan_steps if st.timestep < 400) == 30
    fuse = ops_at(plan, 41, "fuse")[0]
    assert (fuse.target, fuse.source.branch) == ("C", "L0")
    (fl,) = fuse.layers
    assert (fl.source.branch, fl.mask) == ("L1", "layer:ball@latent")
    # 100 px right on a 512 canvas = 200 render px = 25 cells; 20 px up on 384 = -53.3 render px = -6.67 -> -6
    assert (fl.dx, fl.dy) == (25, -6)


def test_reference_refine_window(ops):
    plan = compile_scene(ops["refine"], schedule="reference")
    keys = [evals_at(plan, s)["L0"].keymask for s in range(50)]
    assert keys[0] is None and keys[40:] == [None] * 10
    assert keys[1:26] == ["refine@latent"] * 25 and keys[26:40] == ["remove@latent"] * 14
    refine, remove = plan.masks["refine@latent"].data, plan.masks["remove@latent"].data
    assert np.array_equal(refine | remove, refine) and refine.sum() > remove.sum()
    # the refine mask gets the authors' attend_mask dilation (10 at 1024 px), as a layer mask does
    sc = ops["refine"]
    refine_id = next(e.refine for e in sc.background.edits if getattr(e, "refine", None))
    canvas_mask = M.MaskResolver(sc, plan.canvas.width, plan.canvas.height)(refine_id)
    want = remove | M.reference_latent([canvas_mask], 10, (1024, 1024), 8)
    assert np.array_equal(refine, want)
    assert not np.array_equal(refine, remove | M.reference_latent([canvas_mask], 0, (1024, 1024), 8))


@pytest.mark.parametrize("n_layers", [0, 1, 2, 5])
@pytest.mark.parametrize("steps", [10, 50])
def test_reference_costs_equal_the_formula(folder, n_layers, steps):
    layers = [ball_layer(m.Move(dx=10 * i, dy=0), id=f"b{i}", keep=bool(i % 2)) for i in range(n_layers)]
    sc = scene(folder, masks=[BALL], layers=layers)
    plan = compile_scene(sc, schedule="reference", steps=steps)
    f = reference_formula(steps, n_layers)
    assert (plan.cost.inversion, plan.cost.denoise) == (f.inversion, f.denoise)


def test_reference_rounds_toward_zero_and_reports_it(folder):
    # -7 px on a 512 canvas = -14 render px = -1.75 cells -> -1 (toward zero); 2 px of 384 = 5.33 render px -> 0
    sc = scene(folder, masks=[BALL], layers=[ball_layer(m.Move(dx=-7, dy=2))])
    ref = compile_scene(sc, schedule="reference").layers[0]
    assert (ref.dx, ref.dy) == (-1, 0)
    assert ref.applied_px == (-4.0, 0.0) and ref.rounding_px == (-3.0, 2.0)
    fast = compile_scene(sc, schedule="fast").layers[0]
    # fast renders 1152x896: -7 px -> -15.75 render px -> -1.97 cells -> -2; 2 px -> 4.67 render px -> 0.58 -> 1
    assert (fast.dx, fast.dy) == (-2, 1)
    assert abs(fast.applied_px[0] - -2 * 8 * 512 / 1152) < 1e-9
    assert any("rounding" in n for n in compile_scene(sc, schedule="fast").notes)


# ---------------------------------------------------------------- the fast schedule


def test_fast_move_targets(ops):
    ref = compile_scene(ops["move"], schedule="reference")
    fast = compile_scene(ops["move"], schedule="fast")
    assert fast.cost.total <= 0.40 * ref.cost.total
    assert fast.cost.denoise <= 0.20 * ref.cost.total
    assert [i.id for i in fast.images] == ["bg"]  # the moved object's picture is the background: one inversion


def test_fast_move_structure(ops):
    plan = compile_scene(ops["move"], schedule="fast")
    f = 41
    for st in plan.plan_steps:
        ev = evals_at(plan, st.index)
        assert "S" not in ev and "L1" not in ev
        if st.index <= f:
            assert set(ev) == {"L0"}
            keyed = 1 <= st.index <= 39
            assert ev["L0"].halves == (["uncond", "cond"] if keyed else ["cond"])
            assert ev["L0"].keymask == ("remove@latent" if keyed else None)
        else:
            assert set(ev) == {"C"} and ev["C"].halves == ["cond"]
        for b in ops_at(plan, st.index, "blend"):
            assert b.source.inversion == "bg" and b.source.index == 50 - st.index - 1
    fuse = ops_at(plan, f, "fuse")[0]
    assert fuse.source.branch == "L0"
    assert fuse.layers[0].source.inversion == "bg" and fuse.layers[0].source.index == 50 - f - 1
    drops = [o.target for o in ops_at(plan, f, "drop")]
    assert drops == ["L0"]


def test_fast_copy_needs_no_removal_branch(ops):
    plan = compile_scene(ops["copy"], schedule="fast")
    assert not plan.masks["remove@latent"].data.any()
    assert all(e.branch == "C" for st in plan.plan_steps for e in st.evals)
    assert plan.cost.denoise == 8
    fuse = ops_at(plan, 41, "fuse")[0]
    assert fuse.source.inversion == "bg" and fuse.source.index == 8


def test_fast_dedups_inversions_by_content(folder):
    # two layers with the same picture and the same transforms share one inversion
    layers = [
        ball_layer(m.Resize(scale=0.5), m.Move(dx=50, dy=0), id="a"),
        ball_layer(m.Resize(scale=0.5), m.Move(dx=-50, dy=0), id="b", keep=True),
    ]
    plan = compile_scene(scene(folder, masks=[BALL], layers=layers), schedule="fast")
    assert [i.id for i in plan.images] == ["bg", "layer:a"]
    assert [l.image for l in plan.layers] == ["layer:a", "layer:a"]


NOTHING_CHANGES = "nothing in this scene changes a pixel"


def test_a_background_alone_costs_nothing_in_fast_and_250_in_reference(ops):
    fast = compile_scene(ops["noop"], schedule="fast")
    assert (fast.cost.inversion, fast.cost.denoise, fast.cost.cacheable) == (0, 0, [])
    assert fast.branches == [] and fast.plan_steps == [] and fast.inverted_images() == []
    assert fast.output == fast.background == "bg" and fast.output_is_background
    assert [o.kind for o in fast.image("bg").ops] == ["frame", "load"]  # the source picture, for the renderers
    assert not fast.masks["edit@canvas"].data.any()
    assert sum(NOTHING_CHANGES in n for n in fast.notes) == 1
    ref = compile_scene(ops["noop"], schedule="reference")  # the authors' computation, step for step
    assert ref.cost.total == 250 and ref.output == "L0" and len(ref.plan_steps) == 50
    assert not ref.output_is_background and not any(NOTHING_CHANGES in n for n in ref.notes)


def _changing_scenes(folder, ops) -> dict:
    imgs = [m.Image(id="poster", src="poster.png"), m.Image(id="sticker", src="sticker.png")]
    return {
        "pan": ops["pan"],
        "pan by one pixel": scene(folder, background=m.Background(image="poster", edits=[m.Pan(dx=0, dy=1)])),
        "zoom-out": ops["zoom-out"],
        "remove": ops["remove"],
        "refine": ops["refine"],
        "canvas wider than the background": scene(folder, canvas=m.Canvas(width=520, height=384)),
        "keep=true copy, no transform": scene(folder, masks=[BALL], layers=[ball_layer(keep=True)]),
        "a layer moved off the canvas": scene(
            folder, images=imgs, layers=[m.Layer(id="s", image="sticker", x=100, y=50, transforms=[m.Move(dx=2000, dy=0)])]
        ),
    }


@pytest.mark.parametrize("name", ["pan", "pan by one pixel", "zoom-out", "remove", "refine", "canvas wider than the background",
                                  "keep=true copy, no transform", "a layer moved off the canvas"])
def test_scenes_that_may_change_pixels_are_not_no_ops(folder, ops, name):
    plan = compile_scene(_changing_scenes(folder, ops)[name], schedule="fast")
    assert plan.cost.total > 0 and plan.branches and len(plan.plan_steps) == 50
    assert not plan.output_is_background and plan.output in {b.id for b in plan.branches}
    assert [i.id for i in plan.inverted_images()] == [i.id for i in plan.images]
    assert not any(NOTHING_CHANGES in n for n in plan.notes)


def test_occlusion_schedules(ops):
    ref = compile_scene(ops["occlusion"], schedule="reference")
    assert ref.output == "C^" and [b.id for b in ref.branches] == ["S", "L0", "C", "C^", "L1"]
    assert (ref.cost.inversion, ref.cost.denoise) == (100, 500)
    for s in range(50):
        fused = bool(ops_at(ref, s, "fuse"))
        assert fused == (s <= 41)
        occ_blend = [o for o in ops_at(ref, s, "blend") if o.target == "C^"]
        assert bool(occ_blend) == (s <= 41)
        assert evals_at(ref, s)["C^"].keymask == ("occlude@latent" if 1 <= s <= 39 else None)
    fast = compile_scene(ops["occlusion"], schedule="fast")
    assert fast.output == "C^"
    assert all("C" not in evals_at(fast, s) for s in range(50))
    kinds = [o.kind for o in fast.plan_steps[10].ops]
    assert kinds.index("fuse") < [i for i, o in enumerate(fast.plan_steps[10].ops) if o.kind == "blend" and o.target == "C^"][0]
    # the occluder mask moved with the layer: 90 px up
    occ = fast.masks["occlude@latent"].data
    front = M.MaskResolver(ops["occlusion"], 512, 384)("front")
    ys = np.nonzero(occ)[0] * 384 / occ.shape[0]
    assert abs(ys.mean() - (np.nonzero(front)[0].mean() - 90)) < 12


@pytest.mark.parametrize("name", ["occlusion", "move", "remove"])
def test_fast_proximal_pool_samples_what_the_reference_pools(ops, name):
    """spec/compiler.md, fast deviation 9: the reference takes the quantile over its whole batch, where a
    branch whose cond half is key-masked has a delta of its own and every other one a delta of 0. The fast
    L0's pool must hold each such key-masked branch (with occlusion, C^ on steps 30..39) and stand zeros in
    for the rest, so the sample has the reference's size and values."""
    ref = compile_scene(ops[name], schedule="reference")
    fast = compile_scene(ops[name], schedule="fast")
    checked = 0
    for s in range(50):
        (prox,) = [o for o in ops_at(fast, s, "proximal") if o.target == "L0"] or [None]
        ref_prox = [o for o in ops_at(ref, s, "proximal") if o.target == "L0"]
        if prox is None:
            continue
        keyed = [e.branch for e in ref.plan_steps[s].evals if e.keymask]
        assert ref_prox and len(ref_prox[0].pool) == len(prox.pool) + prox.pool_zeros
        assert set(keyed) <= set(prox.pool)
        # a pooled branch the fast schedule evaluates with both halves exactly where the reference keys it
        fast_evals = evals_at(fast, s)
        assert all(b in fast_evals for b in prox.pool)
        assert {b for b in prox.pool if len(fast_evals[b].halves) == 2} == set(keyed)
        checked += 1
    assert checked >= 10
    if name == "occlusion":
        assert all("C^" in o.pool for s in range(30, 40) for o in ops_at(fast, s, "proximal"))


# ---------------------------------------------------------------- transforms and lowering


def _centroid(mask):
    return np.array(M.centroid(M.binary(mask)))


@pytest.mark.parametrize("name", ["resize", "flip", "rotate"])
def test_image_level_transforms_keep_the_centroid(ops, name):
    plan = compile_scene(ops[name], schedule="fast")
    layer = plan.layers[0]
    sc = ops[name]
    before = M.MaskResolver(sc, 512, 384)(sc.layers[0].mask)
    after = plan.masks[layer.mask_canvas].data
    assert np.abs(_centroid(before) - _centroid(after)).max() < 1.0
    assert plan.image(layer.image).ops[-1].kind == "affine"


def test_resize_scales_the_area_and_rotate_turns_clockwise(ops, folder):
    plan = compile_scene(ops["resize"], schedule="fast")
    area = np.count_nonzero(M.binary(plan.masks["layer:ball@canvas"].data))
    assert abs(area / (np.pi * 3600) - 0.36) < 0.03
    # a horizontal bar turned +90 degrees (clockwise) becomes vertical; its right end goes down
    bar = m.Mask(id="bar", shapes=[m.Rect(x=200, y=190, width=100, height=20), m.Rect(x=290, y=170, width=10, height=20)])
    sc = scene(folder, masks=[bar], layers=[m.Layer(id="bar", image="poster", mask="bar", transforms=[m.Rotate(degrees=90)])])
    turned = M.binary(compile_scene(sc).masks["layer:bar@canvas"].data)
    ys, xs = np.nonzero(turned)
    assert ys.max() - ys.min() > 2 * (xs.max() - xs.min())  # now vertical
    wide_rows = np.nonzero((turned > 0).sum(axis=1) > 30)[0]  # where the knob is
    assert wide_rows.mean() > ys.mean()  # the bar's right end went down
    knob_cols = np.nonzero(turned[wide_rows].any(axis=0))[0]
    assert knob_cols.max() > xs.mean() + 15  # the knob that pointed up now points right


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_a_resize_by_width_and_height_ratios_stretches_the_layer_about_its_centroid(folder, schedule):
    """Format 1.1 (issue 12, 9f): scale-x / scale-y fold into the image-level affine as diag(sx, sy) about the
    centroid; the layer picture's recipe and its masks are stretched alike, and a turn after it turns the
    stretched object."""
    box = m.Mask(id="box", shapes=[m.Rect(x=300, y=150, width=120, height=120)])
    sc = scene(folder, version="1.1", masks=[box],
               layers=[m.Layer(id="box", image="poster", mask="box", keep=True, transforms=[m.Resize(scale_x=1.5, scale_y=0.5)])])
    plan = compile_scene(sc, schedule=schedule)
    (layer,) = plan.layers
    affine = plan.image(layer.image).ops[-1]
    assert affine.kind == "affine"
    np.testing.assert_allclose(np.asarray(affine.matrix).reshape(2, 3), [[1.5, 0, 359.5 - 1.5 * 359.5], [0, 0.5, 209.5 - 0.5 * 209.5]])
    ys, xs = np.nonzero(plan.masks[layer.mask_canvas].data >= 128)
    assert (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) == (180, 60)
    assert abs(xs.mean() - 359.5) < 0.5 and abs(ys.mean() - 209.5) < 0.5
    pixels = materialize(plan.image(layer.image), plan.canvas)
    green = (pixels[..., 1] > 150) & (pixels[..., 0] < 100)
    gy, gx = np.nonzero(green[100:320, 200:520])
    # the picture stretched as the mask (its box's edges are soft: a pixel or two either way)
    assert abs(gx.max() - gx.min() + 1 - 180) <= 2 and abs(gy.max() - gy.min() + 1 - 60) <= 2
    turned = scene(folder, version="1.1", masks=[box], layers=[m.Layer(
        id="box", image="poster", mask="box", keep=True, transforms=[m.Resize(scale_x=1.5, scale_y=0.5), m.Rotate(degrees=90)])])
    ys, xs = np.nonzero(compile_scene(turned, schedule=schedule).masks["layer:box@canvas"].data >= 128)
    assert (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) == (60, 180)


def test_flip_mirrors_the_layer_picture(ops):
    plan = compile_scene(ops["flip"], schedule="fast")
    img = materialize(plan.image(plan.layers[0].image), plan.canvas).astype(int)
    bg = materialize(plan.image("bg"), plan.canvas).astype(int)
    # the mirror axis is the box mask's centroid, measured here on the mask picture (columns 300..420)
    cx = float(np.nonzero(M.MaskResolver(ops["flip"], 512, 384)("box") >= 128)[1].mean())
    assert cx == 360.0
    # the box itself is one flat colour, so compare the whole picture: column x shows source column 2 cx - x
    xs = np.arange(int(2 * cx) - 511, 512)
    assert np.abs(img[:, xs] - bg[:, int(2 * cx) - xs]).max() <= 2
    assert np.abs(img[:, xs] - bg[:, xs]).max() > 100  # not the unflipped picture


def test_cut_rule(folder):
    other = m.Image(id="again", src="poster.png")  # the same file under another id
    layers = [
        ball_layer(m.Move(dx=100, dy=0), id="cut"),
        m.Layer(id="kept", image="poster", mask="box", keep=True, transforms=[m.Move(dx=0, dy=50)]),
        m.Layer(id="samefile", image="again", mask="box", transforms=[m.Move(dx=0, dy=-50)]),
    ]
    sc = scene(folder, images=[m.Image(id="poster", src="poster.png"), other], masks=[BALL, BOX], layers=layers)
    removal = compile_scene(sc).masks["remove@canvas"].data
    ball = M.MaskResolver(sc, 512, 384)("ball")
    box = M.MaskResolver(sc, 512, 384)("box")
    assert (removal[ball >= 128] > 0).all() and (removal[box >= 128] > 0).all()
    sc2 = scene(folder, masks=[BALL, BOX], layers=[layers[1]])
    assert not compile_scene(sc2).masks["remove@canvas"].data.any()


def test_pan_and_zoom_lower_to_removal(ops):
    pan = compile_scene(ops["pan"], schedule="fast")
    assert [o.kind for o in pan.image("bg").ops] == ["frame", "load", "pan"]
    assert pan.image("bg").ops[-1] == PanOp(-102, 0)
    rem = pan.masks["remove@canvas"].data
    assert rem[:, 512 - 102 :].all() and not rem[:, : 512 - 102 - 40].any()
    zoom = compile_scene(ops["zoom-out"], schedule="reference")
    assert zoom.image("bg").ops[-1].kind == "zoom-out"
    lat = zoom.masks["remove@latent"].data
    assert lat[0].all() and lat[-1].all() and not lat[64, 64]
    # holes start from nearby content, not black
    frame = materialize(pan.image("bg"), pan.canvas)
    assert frame[:, 420:].mean() > 40


def test_edit_region_covers_what_changes(ops):
    plan = compile_scene(ops["move"], schedule="fast")
    edit = plan.masks["edit@canvas"].data
    layer = plan.layers[0]
    ball = M.binary(plan.masks[layer.mask_canvas].data)
    moved = M.shift(ball, int(round(layer.applied_px[0])), int(round(layer.applied_px[1])))
    assert (edit[ball > 0] == 255).all() and (edit[moved > 0] == 255).all()
    assert edit[380, 500] == 0  # far corner untouched
    assert edit.dtype == np.uint8 and 0 < np.count_nonzero((edit > 0) & (edit < 255))


# ---------------------------------------------------------------- plan contract and errors


def test_every_operation_compiles_and_round_trips(ops):
    for name, sc in ops.items():
        for schedule in ("reference", "fast"):
            plan = compile_scene(sc, schedule=schedule)
            text = plan.to_json()
            assert Plan.from_json(text).to_json() == text
            names = set(plan.masks)
            assert {"remove@latent", "remove@canvas", "edit@canvas"} <= names
            for st in plan.plan_steps:
                for e in st.evals:
                    assert e.keymask is None or e.keymask in names
                for o in st.ops:
                    assert set(mask_reads(o)) <= names
            for layer in plan.layers:
                assert layer.mask_latent in names and layer.mask_canvas in names
                assert plan.masks[layer.mask_latent].data.shape == (plan.latent.height, plan.latent.width)
                assert plan.masks[layer.mask_canvas].data.shape == (plan.canvas.height, plan.canvas.width)


def test_options_from_the_scene_and_arguments(folder):
    sc = scene(folder, masks=[STAMP], background=m.Background(image="poster", edits=[m.Remove(mask="stamp")]),
               render=m.Render(seed=7, steps=20, schedule="reference", guidance=5.0), prompt="a poster")
    plan = compile_scene(sc, schedule=None)
    assert (plan.schedule, plan.steps, plan.seed, plan.guidance_scale, plan.prompt) == ("reference", 20, 7, 5.0, "a poster")
    assert compile_scene(sc, schedule="fast", steps=30, seed=1).steps == 30
    assert len(plan.plan_steps) == 20 and plan.cost.total == 20 + 2 * 20 * 2


def test_render_sessions_take_the_scenes_settings_unless_given(folder):
    """The precedence is decided once (designedit.compiler.options): what is given, else the scene's <render>,
    else the defaults, for `dedit plan`, `designedit.compile` and a render session alike."""
    from designedit.rendering.session import RenderSession

    removal = m.Background(image="poster", edits=[m.Remove(mask="stamp")])
    own = scene(folder, masks=[STAMP], background=removal, render=m.Render(seed=7, steps=20, schedule="reference", guidance=5.0))
    bare = scene(folder, masks=[STAMP], background=removal)
    session = RenderSession("preview", announce=None)

    def settings(plan):
        return plan.schedule, plan.steps, plan.seed, plan.guidance_scale

    assert settings(session.compile(own)) == settings(compile_scene(own, schedule=None)) == ("reference", 20, 7, 5.0)
    assert settings(session.compile(own, schedule="fast", steps=30, seed=1)) == ("fast", 30, 1, 5.0)
    assert settings(session.compile(bare)) == settings(compile_scene(bare, schedule=None)) == ("fast", 50, 0, 7.5)


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_passes_leave_what_they_are_given_unchanged(folder, schedule):
    """A pass returns a new value: the regions pass adds a cut layer to its own copy of the background's
    removals, and what the passes made is frozen."""
    from dataclasses import FrozenInstanceError

    from designedit.compiler import lowering
    from designedit.compiler.options import resolve_options

    sc = operation_scenes(folder)["move"]  # the ball, cut from the poster and moved
    x = lowering.start(sc, resolve_options(sc, schedule, None, 8, None, None), 1024)
    for step in (lowering.background, lowering.layers, lowering.transforms, lowering.images):
        x = step(x)
    removes = x.background.removes
    assert removes.count == 0 and not removes.union().any()
    after = lowering.regions(x)
    assert after.background is x.background and not x.masks and after.masks["remove@latent"].data.any()
    assert removes.count == 0 and not removes.union().any()
    with pytest.raises(FrozenInstanceError):
        after.layers[0].dx = 0  # type: ignore[misc]


def test_empty_layer_mask_is_a_scene_error(folder):
    empty = m.Mask(id="none", shapes=[m.Rect(x=-50, y=-50, width=10, height=10)])
    sc = scene(folder, masks=[empty], layers=[m.Layer(id="x", image="poster", mask="none")])
    with pytest.raises(SceneError, match="selects nothing"):
        compile_scene(sc)


def test_layer_without_mask_uses_alpha_or_is_refused(folder):
    imgs = [m.Image(id="poster", src="poster.png"), m.Image(id="sticker", src="sticker.png")]
    ok = scene(folder, images=imgs, layers=[m.Layer(id="s", image="sticker", x=100, y=50)])
    mask = compile_scene(ok).masks["layer:s@canvas"].data
    ys, xs = np.nonzero(mask >= 128)
    assert xs.min() >= 100 and ys.min() >= 50 and xs.max() < 260 and ys.max() < 210
    bad = scene(folder, layers=[m.Layer(id="p", image="poster")])
    with pytest.raises(SceneError, match="transparency"):
        compile_scene(bad)


def test_compiler_never_imports_torch():
    code = (
        "import sys, designedit.compiler, designedit.masks, designedit.plan.recipes, designedit.plan.svg;"
        "bad=[m for m in ('torch','diffusers','transformers') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_render_size_follows_the_models_native_size(tmp_path):
    # a model trained at 256 px (e.g. a small test UNet) renders at about 256^2, not SDXL's megapixel
    scene = operation_scenes(copy_pictures(tmp_path))["move"]
    ref = compile_scene(scene, schedule="reference", native_size=256)
    fast = compile_scene(scene, schedule="fast", native_size=256)
    sdxl = compile_scene(scene, schedule="fast")
    assert (ref.render.width, ref.render.height) == (256, 256)
    assert (fast.render.width, fast.render.height) == (320, 192)  # 512x384 kept at ~256^2, multiples of 64
    assert (sdxl.render.width, sdxl.render.height) == (1152, 896)
    assert (fast.latent.width, fast.latent.height) == (40, 24)


def _grey_edged_scene(folder, invert: bool = False):
    """A 256x256 picture and a mask picture whose disc has a wide grey rim (1..127, like JPEG ringing)."""

    from PIL import Image

    from designedit.io import load

    yy, xx = np.mgrid[:256, :256]
    r = np.hypot(xx - 128, yy - 128)
    values = np.clip((70 - r) * 255 / 24 + 255, 0, 250)  # 250 inside r 70 (JPEG white), falling to 0 at r 94
    values[(r > 70) & (values > 127)] = 100  # the rim stays below one half
    Image.fromarray(values.astype(np.uint8)).save(folder / "grey-mask.png")
    Image.new("RGB", (256, 256), (90, 120, 200)).save(folder / "bg.png")
    doc = {"dedit": "1.0", "images": [{"id": "bg", "src": "bg.png"}],
           "masks": [{"id": "m", "src": "grey-mask.png", **({"invert": True} if invert else {})}],
           "background": {"image": "bg"},
           "layers": [{"id": "l", "image": "bg", "mask": "m", "transforms": [{"op": "move", "dx": 16, "dy": 0}]}]}
    path = folder / f"grey{'-inv' if invert else ''}.dedit.json"
    path.write_text(json.dumps(doc))
    return load(path, check_files=True), values.astype(np.uint8)


def test_the_reference_reads_mask_pictures_grey_as_the_authors_do(tmp_path):
    """Method 12: greyscale, resized, dilated, then > 0: the grey rim selects cells; the fast schedule and
    everything drawn on the canvas keep the one-half threshold."""
    sc, grey = _grey_edged_scene(tmp_path)
    binary = np.where(grey >= 128, 255, 0).astype(np.uint8)
    ref = compile_scene(sc, schedule="reference")
    want = M.reference_latent([grey], 20, (1024, 1024), 8)
    assert np.array_equal(ref.masks["remove@latent"].data, want)
    assert want.sum() > M.reference_latent([binary], 20, (1024, 1024), 8).sum()  # the rim counts
    assert np.array_equal(ref.masks["layer:l@latent"].data, M.reference_latent([grey], 10, (1024, 1024), 8))
    assert np.array_equal(ref.masks["layer:l@canvas"].data, binary)  # drawn: thresholded
    fast = compile_scene(sc, schedule="fast")
    assert np.array_equal(fast.masks["layer:l@canvas"].data, binary)
    # an inverted mask is thresholded first (inverted, its rim and noise would select nearly everything),
    # also when the grey picture comes through `use`
    inv, _ = _grey_edged_scene(tmp_path, invert=True)
    ref_inv = compile_scene(inv, schedule="reference")
    assert np.array_equal(ref_inv.masks["layer:l@latent"].data, M.reference_latent([255 - binary], 10, (1024, 1024), 8))
    via = inv.model_copy(update={"masks": [m.Mask(id="m", invert=True, shapes=[m.Use(mask="g")]),
                                           m.Mask(id="g", src="grey-mask.png")]})
    ref_via = compile_scene(via, schedule="reference")
    assert np.array_equal(ref_via.masks["layer:l@latent"].data, ref_inv.masks["layer:l@latent"].data)


def test_the_off_canvas_warning_reads_the_drawn_mask_in_both_schedules(tmp_path):
    """Moved so that only the grey rim (below one half) stays on the canvas: nothing is drawn there."""

    from designedit.io import load

    sc, _ = _grey_edged_scene(tmp_path)
    doc = json.loads((tmp_path / "grey.dedit.json").read_text())
    doc["layers"][0]["transforms"][0]["dx"] = -200  # the disc (r 70 about x 128) ends at x -2; the rim reaches 22
    path = tmp_path / "off.dedit.json"
    path.write_text(json.dumps(doc))
    scene = load(path, check_files=True)
    for schedule in ("fast", "reference"):
        plan = compile_scene(scene, schedule=schedule)
        assert any("ends up entirely outside" in w for w in plan.warnings), (schedule, plan.warnings)


def test_transforms_turn_about_the_selected_part_not_a_faint_alpha_shadow(tmp_path):
    """spec/format.md 6: the centroid is of the mask at value >= 128; a picture's soft shadow does not move it."""

    from PIL import Image

    from designedit.io import load

    rgba = np.zeros((200, 200, 4), np.uint8)
    rgba[..., :3] = 200
    rgba[140:190, 20:190, 3] = 60  # a faint shadow below and to the right
    cv2.circle(rgba, (100, 100), 30, (200, 40, 40, 255), -1)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "sticker.png")
    Image.new("RGB", (200, 200), (90, 120, 200)).save(tmp_path / "bg.png")
    doc = {"dedit": "1.0", "images": [{"id": "bg", "src": "bg.png"}, {"id": "s", "src": "sticker.png"}],
           "background": {"image": "bg"},
           "layers": [{"id": "l", "image": "s", "transforms": [{"op": "resize", "scale": 0.5}]}]}
    (tmp_path / "s.dedit.json").write_text(json.dumps(doc))
    scene = load(tmp_path / "s.dedit.json", check_files=True)
    for schedule in ("fast", "reference"):
        drawn = compile_scene(scene, schedule=schedule).masks["layer:l@canvas"].data
        cx, cy = M.centroid(M.binary(drawn))
        assert abs(cx - 100) <= 0.5 and abs(cy - 100) <= 0.5, (schedule, cx, cy)


def test_the_reference_truncates_pan_and_zoom_sizes_as_the_authors_do(tmp_path):
    """`int(scale * W)` in the authors' code; the fast schedule rounds to nearest (method 9 names neither)."""
    from PIL import Image

    from designedit.imaging.geometry import zoom_rect
    from designedit.io import load

    assert zoom_rect(700, 300, 1.5, truncate=True) == (117, 50, 466, 200)
    assert zoom_rect(700, 300, 1.5) == (116, 50, 467, 200)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (300, 702, 3), dtype=np.uint8)).save(tmp_path / "bg.png")
    doc = {"dedit": "1.0", "images": [{"id": "bg", "src": "bg.png"}],
           "background": {"image": "bg", "edits": [{"op": "pan", "dx": "25%", "dy": 0}, {"op": "zoom-out", "factor": 1.5}]}}
    (tmp_path / "p.dedit.json").write_text(json.dumps(doc))
    scene = load(tmp_path / "p.dedit.json", check_files=True)
    ref, fast = compile_scene(scene, schedule="reference"), compile_scene(scene, schedule="fast")
    assert any(n.startswith("pan by (175, 0) px") for n in ref.notes)  # 25% of 702 = 175.5
    assert any(n.startswith("pan by (176, 0) px") for n in fast.notes)
    zoom_ops = [op for op in ref.image(ref.background).ops if op.kind == "zoom-out"]
    assert zoom_ops and zoom_ops[0] == ZoomOutOp(1.5, truncate=True)
    fast_zoom = [op for op in fast.image(fast.background).ops if op.kind == "zoom-out"]
    assert [encode(ImageOp, op)["args"] for op in fast_zoom] == [{"factor": 1.5}]  # `truncate` left out: the key


def test_inverted_and_feathered_masks_are_the_same_in_both_schedules_resolvers(tmp_path):
    """Only mask pictures' grey values differ in the reference: an inverted `use` of a feathered shape is
    computed exactly as for the canvas, and the off-canvas warning reads the same drawn mask in both (here
    the feather's faint tail is still drawn on the canvas: no warning in either)."""
    from PIL import Image

    from designedit.io import load

    Image.new("RGB", (64, 48), (90, 120, 200)).save(tmp_path / "bg.png")
    doc = {"dedit": "1.0", "images": [{"id": "bg", "src": "bg.png"}],
           "masks": [{"id": "a", "feather": 8, "shapes": [{"shape": "rect", "x": 8, "y": 8, "width": 32, "height": 24}]},
                     {"id": "b", "invert": True, "shapes": [{"shape": "use", "mask": "a"}]}],
           "background": {"image": "bg"},
           "layers": [{"id": "L", "image": "bg", "mask": "a", "transforms": [{"op": "move", "dx": 52, "dy": 0}]}]}
    (tmp_path / "f.dedit.json").write_text(json.dumps(doc))
    scene = load(tmp_path / "f.dedit.json", check_files=True)
    drawn = M.MaskResolver(scene, 64, 48)
    grey = M.MaskResolver(scene, 64, 48, grey_pictures=True, plain=drawn)
    for mask_id in ("a", "b"):
        np.testing.assert_array_equal(grey(mask_id), drawn(mask_id))
    for schedule in ("fast", "reference"):
        assert not any("ends up entirely outside" in w for w in compile_scene(scene, schedule=schedule).warnings), schedule


def test_scene_hash_names_the_scene_not_the_schedule(tmp_path):
    """The same scene gives one hash whatever the schedule, steps or seed; an edited picture gives another."""
    copy_pictures(tmp_path)
    s = scene(tmp_path, masks=[BALL], layers=[ball_layer(m.Move(dx=40, dy=0))])
    hashes = {compile_scene(s, schedule=sched, steps=steps, seed=seed).scene_hash
              for sched in ("fast", "reference") for steps in (10, 50) for seed in (0, 7)}
    assert len(hashes) == 1
    picture = tmp_path / "poster.png"
    pixels = cv2.imread(str(picture))
    pixels[0, 0] = 255 - pixels[0, 0]
    cv2.imwrite(str(picture), pixels)
    assert compile_scene(s).scene_hash not in hashes
    (tmp_path / "ball-mask.png").write_bytes((tmp_path / "ball-mask.png").read_bytes())  # same bytes: same hash
    edited = compile_scene(s).scene_hash
    moved = scene(tmp_path, masks=[BALL], layers=[ball_layer(m.Move(dx=41, dy=0))])
    assert compile_scene(moved).scene_hash != edited


def test_fast_moves_round_halves_away_from_zero():
    from designedit.compiler.transforms import to_cells

    # 1024 px canvas on a 1024 render, 8 px cells: +-4 px is half a cell either way
    assert [to_cells(v, 1024, 1024, 8, "fast") for v in (4, -4, 12, -12, 3.9, -3.9)] == [1, -1, 2, -2, 0, 0]
    assert [to_cells(v, 1024, 1024, 8, "reference") for v in (4, -4, 15.9, -15.9)] == [0, 0, 1, -1]


def test_scene_hash_of_an_unreadable_picture_is_a_scene_error(tmp_path):
    copy_pictures(tmp_path)
    s = scene(tmp_path, images=[m.Image(id="poster", src="poster.png"), m.Image(id="gone", src="gone.png")])
    with pytest.raises(SceneError, match=r"image 'gone': 'gone.png' cannot be read"):
        compile_scene(s)
