"""Numeric limits: extreme numbers in any field are refused by `dedit validate` (exit 2, located, one sentence),
and a document that validates never makes the compiler fail with anything but a located SceneError."""

from __future__ import annotations

import copy
import json
import re
import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designedit.checks import limits
from designedit.model import scene as m
from designedit.cli import main
from designedit.compiler import compile_scene
from designedit.errors import SceneError
from designedit.io import dump, load
from designedit.model.source import json_pointer
from shared_paths import CONFORMANCE

# A document with every numeric field of the model (paths in its JSON shape).
BASE = {
    "dedit": "1.3",
    "canvas": {"width": 512, "height": 384},
    "prompt": "a ball",
    "render": {"seed": 1, "steps": 4, "guidance": 5},
    "images": [{"id": "p", "src": "poster.png"}],
    "masks": [
        {"id": "ball", "src": "ball-mask.png", "grow": 2, "feather": 1},
        {"id": "s", "shapes": [
            {"shape": "rect", "x": 10, "y": 10, "width": 40, "height": 24},
            {"shape": "ellipse", "cx": 100, "cy": 100, "rx": 20, "ry": 10},
            {"shape": "polygon", "points": [[200, 200], [240, 200], [220, 240]]},
        ]},
        {"id": "words", "shapes": [{"shape": "attention", "word": "ball", "threshold": 0.25}]},  # applied nowhere
    ],
    "background": {"image": "p", "edits": [
        {"op": "remove", "mask": "s"},
        {"op": "pan", "dx": 8, "dy": 0},
        {"op": "zoom-out", "factor": 1.5},
    ]},
    "layers": [{"id": "l", "image": "p", "mask": "ball", "x": 3, "y": 4, "transforms": [
        {"op": "move", "dx": 16, "dy": -8},
        {"op": "resize", "scale": 1.2},
        {"op": "rotate", "degrees": 10},
        {"op": "resize", "scale-x": 1.1, "scale-y": 0.9},
    ]}],
}


def numeric_paths(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from numeric_paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from numeric_paths(value, path + (i,))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path


PATHS = list(numeric_paths(BASE))
EXTREMES = [10**9, -(10**9), 10**400, -(10**400), 1e9, -1e9, 1e308, -1e308, "999999999999%", "9" * 400 + "%"]
UNBOUNDED = ("degrees",)  # any finite turn is a rotation (format-v1); only infinities are refused


def with_value(path, value) -> dict:
    doc = copy.deepcopy(BASE)
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def xml_text(doc: dict, raw: dict[tuple, str] | None = None) -> str:
    """The XML form of a JSON-shaped document (through the model, which takes any finite number), with
    attribute values replaced by raw text where asked."""
    data = dict(doc)
    data["version"] = data.pop("dedit")
    text = dump(m.Scene.model_validate(data), "xml")
    for (tag, attr), value in (raw or {}).items():
        text = re.sub(rf'(<{tag}\b[^>]*\b{attr}=")[^"]*(")', rf"\g<1>{value}\2", text, count=1)
    return text


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("limits")
    for name in ("poster.png", "ball-mask.png"):
        shutil.copy(CONFORMANCE / name, out / name)
    return out


def validate(folder: Path, name: str, text: str, capsys, *flags: str) -> tuple[int, list[str]]:
    (folder / name).write_text(text)
    capsys.readouterr()
    rc = main(["validate", "-q", *flags, str(folder / name)])
    return rc, capsys.readouterr().err.splitlines()


def test_the_base_document_is_valid_and_has_every_numeric_field_of_the_model(folder: Path, capsys):
    assert validate(folder, "base.dedit", json.dumps(BASE), capsys) == (0, [])
    in_base = {(type(node).__name__, name) for node, name in _numeric_fields_of(load(folder / "base.dedit"))}
    assert in_base == _numeric_fields_of_model(m.Scene) and len(in_base) == 28


def _numeric_fields_of_model(model, seen=None) -> set:
    from designedit.model import vocab

    out: set = set()
    for f in vocab.fields(model):
        if f.kind in ("length", "number", "int", "points"):
            out.add((model.__name__, f.name))
        for sub in ([f.model] if f.model is not None else []) + list(f.members):
            out |= _numeric_fields_of_model(sub)
    return out


def _numeric_fields_of(scene: m.Scene):
    from designedit.model import vocab

    def walk(node):
        for f in vocab.fields(type(node)):
            value = getattr(node, f.attr)
            if f.kind in ("length", "number", "int", "points") and value is not None:
                yield node, f.name
            elif isinstance(value, m._Node):
                yield from walk(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, m._Node):
                        yield from walk(item)

    return list(walk(scene))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: json_pointer(p))
def test_extreme_numbers_are_refused_with_their_place(path, folder: Path, capsys):
    pointer = json_pointer(("version",) + path[1:] if path[0] == "dedit" else path)
    for value in EXTREMES:
        if isinstance(value, str) and path[-2:-1] in (("canvas",), ("render",)) or isinstance(value, str) and path[-1] in ("grow", "feather", "factor", "scale", "scale-x", "scale-y", "degrees"):
            continue  # percentages are lengths only
        if path == ("render", "seed") and value == 10**9:
            value = 2**63  # a billion is a fine seed; seeds stop below 2^63
        doc = with_value(path, value)
        rc, lines = validate(folder, "doc.dedit.json", json.dumps(doc), capsys, "--no-files")
        if path[-1] in UNBOUNDED and abs(float(value) if abs(value) < 10**309 else float("inf")) != float("inf"):
            assert rc == 0, (path, value, lines)
            continue
        assert rc == 2, (path, value, lines)
        assert lines and all(re.match(r"^\S+doc\.dedit\.json#/\S*: \S", line) for line in lines), lines
        target = pointer if path[-3:-2] != ("points",) else json_pointer(path[:-2])
        pointers = [line.split("#", 1)[1].split(": ", 1)[0] for line in lines]
        assert any(target == p or target.startswith(p + "/") and p == "/canvas" for p in pointers), (path, value, lines)
        assert not any("Traceback" in line or "Error" in line for line in lines), lines


@pytest.mark.parametrize("path", [p for p in PATHS if p[-3:-2] != ("points",)], ids=lambda p: json_pointer(p))
def test_extreme_numbers_in_xml_are_refused_at_their_attribute(path, folder: Path, capsys):
    tag = {"canvas": "canvas", "render": "render"}.get(path[0]) or _xml_tag(path)
    for value in ["1e9", "-1e9", "1e308", "-1e308", "1000000000", "inf", "nan", "NaN", "-Infinity", "9" * 400 + "%"]:
        if path == ("render", "seed") and value == "1000000000":
            value = str(2**63)
        text = xml_text(BASE, {(tag, path[-1]): value})
        rc, lines = validate(folder, "doc.dedit", text, capsys, "--no-files")
        if path[-1] in UNBOUNDED and value.lstrip("-") in ("1e9", "1e308", "1000000000"):
            assert rc == 0, (path, value, lines)
            continue
        assert rc == 2, (path, value, lines)
        assert lines and all(re.match(r"^\S+doc\.dedit:\d+:\d+: \S", line) for line in lines), lines
        line_no, col = _attribute_place(text, tag, path[-1])
        if tag == "canvas" and any("the canvas is" in line for line in lines):  # the size is the element's
            line_no, col = _attribute_place(text, tag, "")
        assert any(f"doc.dedit:{line_no}:{col}: " in line for line in lines), (path, value, lines)


def _xml_tag(path) -> str:
    node = BASE
    for step in path[:-1]:
        node = node[step]
    return node.get("shape") or node.get("op") or {"masks": "mask", "layers": "layer"}[path[0]]


def _attribute_place(text: str, tag: str, attr: str) -> tuple[int, int]:
    match = re.search(rf'<{tag}\b[^>]*\b({attr})="', text) if attr else re.search(rf"(<{tag})\b", text)
    before = text[: match.start(1)]
    return before.count("\n") + 1, len(before) - before.rfind("\n")


def test_polygon_points_out_of_range_are_refused_in_xml(folder: Path, capsys):
    text = xml_text(BASE, {("polygon", "points"): "200,200 1e9,200 220,240"})
    rc, lines = validate(folder, "doc.dedit", text, capsys, "--no-files")
    line_no, col = _attribute_place(text, "polygon", "points")
    assert rc == 2 and lines == [f"{folder}/doc.dedit:{line_no}:{col}: each point coordinate must be between -65536 and 65536 pixels"]


def test_limits_are_inclusive_and_their_sentences_say_the_range(folder: Path, capsys):
    edge = with_value(("masks", 0, "grow"), limits.MAX_GROW)
    edge = json.loads(json.dumps(edge))
    edge["layers"][0]["transforms"][0]["dx"] = "400%"
    edge["layers"][0]["transforms"][1]["scale"] = limits.MIN_SCALE
    # the reader takes every value at its limit (--no-files: the compiler would then say, rightly, that a
    # resize to 0.0001 leaves no object to place; that is not a limit)
    assert validate(folder, "edge.dedit.json", json.dumps(edge), capsys, "--no-files") == (0, [])
    over = with_value(("masks", 0, "grow"), -limits.MAX_GROW - 1)
    over["layers"][0]["transforms"][0]["dx"] = "400.5%"
    over["layers"][0]["transforms"][1]["scale"] = 10001
    over["background"]["edits"][2]["factor"] = 16385
    over["render"]["guidance"] = 1000.5
    rc, lines = validate(folder, "over.dedit.json", json.dumps(over), capsys)
    doc = f"{folder}/over.dedit.json"
    assert rc == 2 and lines == [
        f"{doc}#/render/guidance: guidance must be between 0 and 1000, not 1000.5",
        f"{doc}#/masks/0/grow: grow must be between -16384 and 16384 pixels, not -16385",
        f"{doc}#/background/edits/2/factor: factor must be between 1 and 16384, not 16385",
        f"{doc}#/layers/0/transforms/0/dx: dx must be between -400% and 400% of the canvas, not '400.5%'",
        f"{doc}#/layers/0/transforms/1/scale: scale must be between 0.0001 and 10000, not 10001",
    ]


def test_a_huge_canvas_is_refused_without_opening_pictures(folder: Path, capsys):
    doc = with_value(("canvas", "width"), 16385)
    rc, lines = validate(folder, "wide.dedit.json", json.dumps(doc), capsys, "--no-files")
    assert rc == 2 and lines == [f"{folder}/wide.dedit.json#/canvas: the canvas is 16385x384 pixels, above the limit of 16384 pixels per side"]


def test_the_compiler_checks_the_limits_of_a_scene_built_in_code(folder: Path):
    scene = load(folder / "base.dedit") if (folder / "base.dedit").exists() else None
    data = with_value(("masks", 0, "grow"), 1e9)
    data["version"] = data.pop("dedit")
    built = m.Scene.model_validate(data).with_origin(m.Origin(None, folder, folder))
    with pytest.raises(SceneError) as info:
        compile_scene(built)
    assert [str(p) for p in info.value.problems] == ["<scene>#/masks/0/grow: grow must be between -16384 and 16384 pixels, not 1000000000"]
    assert scene is None or compile_scene(scene).layers


def test_many_transforms_within_their_limits_are_refused_together(folder: Path):
    doc = copy.deepcopy(BASE)
    doc["layers"][0]["transforms"] = [{"op": "resize", "scale": 10000}] * 3
    (folder / "grown.dedit.json").write_text(json.dumps(doc))
    with pytest.raises(SceneError) as info:
        compile_scene(load(folder / "grown.dedit.json"))
    assert [str(p) for p in info.value.problems] == [
        f"{folder}/grown.dedit.json#/layers/0: layer 'l': its transforms together enlarge the object more than 10000 times"
    ]
    doc["layers"][0]["transforms"] = [{"op": "move", "dx": 65536, "dy": 0}] * 17
    (folder / "far.dedit.json").write_text(json.dumps(doc))
    with pytest.raises(SceneError, match=r"#/layers/0: layer 'l': its moves add up to more than 1048576 pixels"):
        compile_scene(load(folder / "far.dedit.json"))


# ------------------------------------------------------------------ property: validated documents compile


def _value_for(path):
    name = path[-1] if isinstance(path[-1], str) else "points"
    edge = {"grow": limits.MAX_GROW, "feather": limits.MAX_GROW, "factor": limits.MAX_ZOOM, "scale": limits.MAX_SCALE,
            "scale-x": limits.MAX_SCALE, "scale-y": limits.MAX_SCALE,
            "degrees": 1e308, "guidance": limits.MAX_GUIDANCE, "seed": 2**63 - 1, "steps": 1000,
            "width": 16384, "height": 2441}.get(name, limits.MAX_LENGTH_PX)
    choices = [st.just(edge), st.just(-edge), st.floats(-float(edge), float(edge), allow_nan=False), st.integers(-64, 64),
               st.sampled_from([1e9, -1e308, 1e-9, 0, 0.5])]
    if name not in ("grow", "feather", "factor", "scale", "scale-x", "scale-y", "degrees", "guidance", "seed", "steps", "width", "height"):
        choices.append(st.sampled_from(["400%", "-400%", "50%", "0%", "1e3%", "401%"]))
    return st.one_of(choices)


@st.composite
def documents(draw) -> dict:
    doc = copy.deepcopy(BASE)
    # not the canvas: a 40 MP canvas is valid, and compiling it is slow; its limit is tested above
    for path in draw(st.lists(st.sampled_from([p for p in PATHS if p[0] != "canvas"]), min_size=1, max_size=4, unique=True)):
        node = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = draw(_value_for(path))
    doc["render"]["steps"] = min(doc["render"]["steps"], 4) if isinstance(doc["render"]["steps"], int) else 4
    return doc


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=documents())
def test_a_document_that_validates_compiles_or_is_refused_with_a_place(doc: dict, folder: Path):
    path = folder / "prop.dedit.json"
    path.write_text(json.dumps(doc))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scene = load(path)
    except SceneError as exc:
        assert all(p.location.startswith(f"{path}#/") for p in exc.problems), exc.problems
        return
    try:
        compile_scene(scene, steps=2)
    except SceneError as exc:
        assert all(p.location.startswith(f"{path}#/") for p in exc.problems), exc.problems


@pytest.mark.parametrize("where", ["edit", "transform", "shape"])
def test_a_discriminator_of_the_wrong_type_is_reported_not_a_crash(tmp_path, where):
    import json

    from designedit.errors import SceneError
    from designedit.io import load_text

    doc = {"dedit": "1.0", "images": [{"id": "p", "src": "p.png"}], "masks": [{"id": "b", "shapes": [{"shape": "rect", "x": 0, "y": 0, "width": 5, "height": 5}]}],
           "background": {"image": "p", "edits": [{"op": "remove", "mask": "b"}]},
           "layers": [{"id": "l", "image": "p", "mask": "b", "transforms": [{"op": "move", "dx": 1, "dy": 1}]}]}
    target = {"edit": doc["background"]["edits"][0], "transform": doc["layers"][0]["transforms"][0], "shape": doc["masks"][0]["shapes"][0]}[where]
    target["shape" if where == "shape" else "op"] = []  # unhashable: a lookup by it would raise TypeError
    with pytest.raises(SceneError) as caught:
        load_text(json.dumps(doc), "doc.dedit.json", tmp_path, check_files=False)
    assert all(p.location.startswith("doc.dedit.json#/") for p in caught.value.problems)


def test_a_json_integer_past_any_float_is_refused_in_words(folder: Path, capsys):
    doc = with_value(("layers", 0, "transforms", 0, "dx"), 10**400)
    rc, lines = validate(folder, "doc.dedit.json", json.dumps(doc), capsys, "--no-files")
    assert rc == 2 and lines == [f"{folder}/doc.dedit.json#/layers/0/transforms/0/dx: this number is too large to be a .dedit value"]
    problems: list = []
    limits.problems(doc, lambda path, msg: problems.append((path, msg)))  # the limits alone, as compile_scene runs them
    assert problems == [(("layers", 0, "transforms", 0, "dx"), "dx must be between -65536 and 65536 pixels, not a number of 401 digits")]


def test_any_finite_rotation_compiles(folder: Path):
    doc = with_value(("layers", 0, "transforms", 2, "degrees"), 7230)
    (folder / "turns.dedit.json").write_text(json.dumps(doc))
    plan = compile_scene(load(folder / "turns.dedit.json"))
    assert plan.layers[0].id == "l"


@pytest.mark.parametrize("value, expected", [
    ("-" + "9" * 400, "this number is too far below zero to be a .dedit value"),
    ("9" * 5000, "this number is too large to be a .dedit value"),  # past Python's own digit limit: still located
    ("-1e400", "this number is too far below zero to be a .dedit value"),
])
def test_numbers_past_any_value_are_located_and_say_which_way(folder: Path, capsys, value, expected):
    doc = json.dumps(with_value(("layers", 0, "transforms", 0, "dx"), 0)).replace('"dx": 0', f'"dx": {value}')
    rc, lines = validate(folder, "doc.dedit.json", doc, capsys, "--no-files")
    assert rc == 2 and lines == [f"{folder}/doc.dedit.json#/layers/0/transforms/0/dx: {expected}"]


@pytest.mark.parametrize("key, value", [("scale", "0.7"), ("dx", "1e6"), ("grow", " 3 ")])
def test_a_quoted_number_is_named_as_such(folder: Path, capsys, key, value):
    path = {"scale": ("layers", 0, "transforms", 1, "scale"), "dx": ("layers", 0, "transforms", 0, "dx"),
            "grow": ("masks", 0, "grow")}[key]
    rc, lines = validate(folder, "doc.dedit.json", json.dumps(with_value(path, value)), capsys, "--no-files")
    assert rc == 2 and lines == [
        f"{folder}/doc.dedit.json#{json_pointer(path)}: {key} must be a JSON number, not the string '{value}': write {value.strip()} without quotes"
    ]


@pytest.mark.parametrize("value, expected", [
    ("9" * 5000, "this number is too large to be a .dedit value"),  # Python's int() refuses this many digits
    ("1e400", "this number is too large to be a .dedit value"),
    ("-" + "9" * 50, "this number is too far below zero to be a .dedit value"),
])
def test_numbers_past_any_value_in_xml_say_so_at_their_attribute(folder: Path, capsys, value, expected):
    text = xml_text(BASE, {("resize", "scale"): value})
    rc, lines = validate(folder, "doc.dedit", text, capsys, "--no-files")
    line_no, col = _attribute_place(text, "resize", "scale")
    assert rc == 2 and lines == [f"{folder}/doc.dedit:{line_no}:{col}: {expected}"]


@pytest.mark.parametrize("key, value", [("scale", "1_0"), ("scale", "0x10"), ("steps", "5.5")])
def test_a_string_that_is_no_json_number_gets_no_unquoting_advice(folder: Path, capsys, key, value):
    path = {"scale": ("layers", 0, "transforms", 1, "scale"), "steps": ("render", "steps")}[key]
    rc, lines = validate(folder, "doc.dedit.json", json.dumps(with_value(path, value)), capsys, "--no-files")
    assert rc == 2 and len(lines) == 1 and "without quotes" not in lines[0] and f"not '{value}'" in lines[0]
