"""The typed plan and its codec: one frozen class per op, one generic decoder, the version table.

The plan JSON itself is pinned by the golden plans (test_compiler_golden.py); these tests pin
how the codec gets there and what it says about a plan it cannot read.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from compiler_scenes import copy_pictures, operation_scenes
from designedit.compiler import compile_scene
from designedit.errors import DeditError
from designedit.plan import (AffineOp, BlendOp, DropOp, FrameOp, FuseLayer, FuseOp, ImageOp, LatentRef, LoadOp, Op,
                             PanOp, Plan, ProximalOp, SetOp, ZoomOutOp, names, versions)
from designedit.plan.codec import decode, encode

V1_OP_FIELDS = ["kind", "target", "source", "mask", "layers", "trajectory", "scale", "quantile", "pool", "pool_zeros"]
REF = LatentRef(inversion=names.BACKGROUND, index=3)
OPS = [
    SetOp(names.REMOVAL, LatentRef(branch=names.SOURCE)),
    BlendOp(names.REMOVAL, REF, names.REMOVE_LATENT),
    FuseOp(names.CANVAS_BRANCH, LatentRef(branch=names.REMOVAL), (FuseLayer(REF, names.layer_latent("l"), 1, -2),)),
    ProximalOp(names.REMOVAL, names.REMOVE_LATENT, REF, 0.1, 0.75, (names.REMOVAL,), 2),
    DropOp(names.SOURCE),
]
IMAGE_OPS = [FrameOp(8, 6), LoadOp("/p.png", "ab", 1, 2), LoadOp("/p.png", "ab", 0, 0, extend=True),
             AffineOp((1.0, 0.0, 2.0, 0.0, 1.0, 0.0)), PanOp(-3, 0), ZoomOutOp(1.5), ZoomOutOp(2.0, truncate=True)]


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> Plan:
    scenes = operation_scenes(copy_pictures(tmp_path_factory.mktemp("codec")))
    return compile_scene(scenes["occlusion"], schedule="fast")


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.kind)
def test_every_op_kind_is_one_flat_record_of_every_op_field_and_reads_back(op):
    record = encode(Op, op)
    assert list(record) == V1_OP_FIELDS and record["kind"] == op.kind
    assert decode(Op, json.loads(json.dumps(record))) == op
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.target = "x"


@pytest.mark.parametrize("op", IMAGE_OPS, ids=repr)
def test_image_ops_write_their_arguments_and_leave_defaults_out(op):
    record = encode(ImageOp, op)
    assert list(record) == ["op", "args"] and record["op"] == op.kind
    assert ("extend" in record["args"]) == getattr(op, "extend", False)
    assert ("truncate" in record["args"]) == getattr(op, "truncate", False)
    assert decode(ImageOp, json.loads(json.dumps(record))) == op


def test_a_plan_reads_back_to_equal_objects(plan):
    back = Plan.from_json(plan.to_json())
    assert back.plan_steps == plan.plan_steps and back.images == plan.images and back.layers == plan.layers
    assert {type(o) for st in back.plan_steps for o in st.ops} == {BlendOp, FuseOp, ProximalOp, DropOp}


def test_cost_total_is_written_for_readers_and_skipped_when_read(plan):
    d = plan.to_dict()
    assert d["cost"]["total"] == plan.cost.inversion + plan.cost.denoise
    assert Plan.from_dict(d).cost == plan.cost


def test_a_plan_written_before_warnings_existed_reads_with_none(plan):
    d = plan.to_dict()
    del d["warnings"]
    assert Plan.from_dict(d).warnings == []


def _broken(plan: Plan, change) -> dict:
    d = copy.deepcopy(plan.to_dict())
    change(d)
    return d


@pytest.mark.parametrize("change, words", [
    (lambda d: d["plan_steps"][0]["ops"][0].update(kind="teleport"), "plan_steps[0].ops[0] has kind 'teleport'"),
    (lambda d: d["plan_steps"][0]["ops"][0].pop("target"), "plan_steps[0].ops[0] lacks the field 'target'"),
    (lambda d: d["images"][0]["ops"][1]["args"].pop("sha256"), "images[0].ops[1].args lacks the field 'sha256'"),
    (lambda d: d["images"][0]["ops"][0].update(op="crop"), "images[0].ops[0] has op 'crop'"),
    (lambda d: d["branches"][0].update(colour="red"), "branches[0] has a field 'colour'"),
    (lambda d: d["branches"][0].update(role="ghost"), "branches[0].role is 'ghost'"),
    (lambda d: d.update(plan_steps={}), "plan_steps is not an array"),
    (lambda d: d["layers"][0].update(applied_px=[1.0]), "layers[0].applied_px holds 1 values, not 2"),
    (lambda d: d.pop("output"), "top level lacks the field 'output'"),
    (lambda d: d["masks"].update(extra=3), "masks cannot be read (TypeError"),
])
def test_what_cannot_be_read_is_named_in_one_sentence(plan, change, words):
    with pytest.raises(DeditError) as err:
        Plan.from_dict(_broken(plan, change))
    assert words in str(err.value) and str(err.value).endswith(".")


def test_an_unknown_version_is_refused(plan):
    with pytest.raises(DeditError, match="version is '9'; this dedit reads plan version 1"):
        Plan.from_dict(_broken(plan, lambda d: d.update(version="9")))
    with pytest.raises(DeditError, match="a plan is a JSON object"):
        Plan.from_json("[]")


def test_an_older_version_is_upgraded_through_the_table(plan, monkeypatch):
    def from_0(d):  # a made-up version 0 that called the output "result"
        d = dict(d, version="1", output=d["result"])
        del d["result"]
        return d

    monkeypatch.setitem(versions.UPGRADES, "0", from_0)
    old = plan.to_dict()
    old["result"] = old.pop("output")
    old["version"] = "0"
    assert Plan.from_dict(old).to_json() == plan.to_json()
    monkeypatch.setitem(versions.UPGRADES, "0", lambda d: d)  # an upgrade that never gets there
    with pytest.raises(DeditError, match="version is '0'"):
        Plan.from_dict(old)


def test_mask_names_are_the_ones_the_plan_holds(plan):
    layer = plan.layers[0]
    assert (layer.mask_latent, layer.mask_canvas, layer.occluder) == (
        names.layer_latent(layer.id), names.layer_canvas(layer.id), names.occluder_latent(layer.id))
    assert {names.REMOVE_LATENT, names.OCCLUDE_LATENT, names.REMOVE_CANVAS, names.OCCLUDE_CANVAS, names.EDIT_CANVAS} <= set(plan.masks)
    assert plan.edit_region == names.EDIT_CANVAS and plan.background == names.BACKGROUND
    assert all(names.is_latent(n) == n.endswith("@latent") for n in plan.masks)
