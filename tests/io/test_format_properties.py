"""Property tests: random valid scenes round-trip through both forms; mutated and random documents only ever
raise SceneError."""

from __future__ import annotations

import json
import shutil
import warnings
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from designedit.checks import limits
from designedit.model import scene as m
from designedit.errors import SceneError
from designedit.io import FormatWarning, dump, load_text, placeholders
from designedit.model.vocab import xml_text_ok
from designedit.checks.paths import reference_problem

ROOT = Path(__file__).resolve().parents[2]
from shared_paths import CONFORMANCE, PRESENT  # noqa: E402
# without the shared folder, the folder itself: a test that reads it fails with shared_paths.MISSING
DOCUMENTS = sorted(p for p in CONFORMANCE.rglob("*") if p.name.endswith((".dedit", ".dedit.json"))) if PRESENT else [CONFORMANCE]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------ strategies

ids = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,12}", fullmatch=True)
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30).filter(lambda s: xml_text_ok(s) is None)
HERE = m.Origin(None, Path(".").absolute(), Path(".").absolute())
# the path rules always apply; `{name}` would be a 1.2 template's placeholder (tests/batch test those)
paths = text.filter(bool).filter(lambda s: reference_problem(HERE, s) is None and not placeholders.names(s))
outputs = paths.map(lambda s: s + ".png").filter(lambda s: reference_problem(HERE, s) is None and not Path(s).exists())


def numbers_within(limit: float):
    """Numbers as both forms may spell them (small and large, whole and not), within +-limit."""
    return st.one_of(st.integers(-2000, 2000), st.integers(-limit, limit),
                     st.floats(allow_nan=False, allow_infinity=False, min_value=-limit, max_value=limit))


numbers = numbers_within(limits.MAX_LENGTH_PX)
percents = st.from_regex(m.PERCENT_RE, fullmatch=True).filter(lambda p: limits.length_problem(p) is None)
lengths = st.one_of(numbers, percents)
positive = st.one_of(st.integers(1, 100), st.floats(min_value=limits.MIN_SCALE, max_value=100))


@st.composite
def scenes(draw) -> m.Scene:
    image_ids = draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    mask_ids = draw(st.lists(ids, max_size=4, unique=True))
    images = [m.Image(id=i, src=draw(paths)) for i in image_ids]
    masks = []
    for n, mask_id in enumerate(mask_ids):
        shape_options = [
            st.builds(m.Rect, x=lengths, y=lengths, width=lengths, height=lengths),
            st.builds(m.Ellipse, cx=lengths, cy=lengths, rx=lengths, ry=lengths),
            st.builds(m.Polygon, points=st.lists(st.tuples(lengths, lengths), min_size=3, max_size=5)),
        ]
        if n:  # `use` only earlier masks, so there is no cycle
            shape_options.append(st.builds(m.Use, mask=st.sampled_from(mask_ids[:n])))
        shapes = draw(st.lists(st.one_of(shape_options), max_size=3))
        src = draw(st.one_of(st.none(), paths)) if shapes else draw(paths)
        masks.append(m.Mask(id=mask_id, src=src, shapes=shapes, invert=draw(st.booleans()), grow=draw(numbers_within(limits.MAX_GROW)),
                            feather=draw(st.one_of(st.integers(0, 50), st.floats(min_value=0, max_value=50)))))
    mask_ref = st.sampled_from(mask_ids) if mask_ids else st.nothing()
    edits = []
    for _ in range(draw(st.integers(0, 3))):
        options = [st.builds(m.Pan, dx=lengths, dy=lengths),
                   st.builds(m.ZoomOut, factor=st.one_of(st.integers(2, 9), st.floats(min_value=1.0001, max_value=10)))]
        if mask_ids:
            options.append(st.builds(m.Remove, mask=mask_ref, refine=st.one_of(st.none(), mask_ref)))
        edits.append(draw(st.one_of(options)))
    transforms = st.lists(st.one_of(
        st.builds(m.Move, dx=lengths, dy=lengths),
        st.builds(m.Resize, scale=positive),
        st.builds(m.Resize, scale_x=positive, scale_y=st.one_of(st.none(), positive)),  # format 1.1
        st.builds(m.Resize, scale_y=positive),
        st.builds(m.Flip, axis=st.sampled_from(["horizontal", "vertical"])),
        st.builds(m.Rotate, degrees=numbers_within(10**12)),  # any finite turn
    ), max_size=4)
    layers = [
        m.Layer(id=layer_id, image=draw(st.sampled_from(image_ids)),
                mask=draw(st.one_of(st.none(), mask_ref)) if mask_ids else None,
                x=draw(lengths), y=draw(lengths), keep=draw(st.booleans()),
                occluder=draw(st.one_of(st.none(), mask_ref)) if mask_ids else None,
                transforms=draw(transforms))
        for layer_id in draw(st.lists(ids, max_size=3, unique=True))
    ]
    per_axis = any(isinstance(t, m.Resize) and t.scale is None for layer in layers for t in layer.transforms)
    render = draw(st.one_of(st.none(), st.builds(
        m.Render,
        seed=st.one_of(st.none(), st.integers(0, 2**63 - 1)),
        steps=st.one_of(st.none(), st.integers(1, 1000)),
        schedule=st.one_of(st.none(), st.sampled_from(["fast", "reference"])),
        guidance=st.one_of(st.none(), st.integers(0, 20), st.floats(min_value=0, max_value=20)),
    )))
    return m.Scene(
        version=draw(st.sampled_from(["1.1", "1.2"] if per_axis else ["1.0", "1.0", "1.0", "1.2"])),
        canvas=draw(st.one_of(st.none(), st.builds(m.Canvas, width=st.integers(1, 16384), height=st.integers(1, 2441)),
                            st.builds(m.Canvas, width=st.integers(1, 6000), height=st.integers(1, 6000)))),
        prompt=draw(st.one_of(st.none(), text)),
        render=render,
        images=images,
        masks=masks,
        background=m.Background(image=draw(st.sampled_from(image_ids)), edits=edits),
        layers=layers,
        output=draw(st.one_of(st.none(), st.builds(m.Output, path=outputs))),
    )


def quiet_load(text, base=".", check_files=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatWarning)
        return load_text(text, "doc", base, check_files=check_files)


@lru_cache(maxsize=None)
def validators():
    schema = json.loads((ROOT / "schemas" / "dedit-1.schema.json").read_text())
    rng = etree.RelaxNG(etree.parse(str(ROOT / "schemas" / "dedit-1.rng")))
    return jsonschema.Draft202012Validator(schema), rng


# ------------------------------------------------------------------ round trips


@SETTINGS
@given(scene=scenes())
def test_random_scenes_round_trip_through_both_forms(scene: m.Scene):
    xml = dump(scene, "xml")
    js = dump(scene, "json")
    from_xml = quiet_load(xml)
    from_json = quiet_load(js)
    assert from_xml == scene
    assert from_json == scene
    assert dump(from_xml, "xml") == xml and dump(from_json, "json") == js
    assert dump(from_xml, "json") == js and dump(from_json, "xml") == xml


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene=scenes())
def test_random_scenes_validate_against_the_schemas(scene: m.Scene):
    json_validator, rng = validators()
    assert not list(json_validator.iter_errors(json.loads(dump(scene, "json"))))
    tree = etree.fromstring(dump(scene, "xml").encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    assert rng.validate(tree), rng.error_log


# ------------------------------------------------------------------ fuzzing


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    for p in CONFORMANCE.rglob("*"):
        if p.is_file():
            target = folder / p.relative_to(CONFORMANCE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, target)
    return folder


def only_scene_errors(data, base: Path) -> None:
    try:
        quiet_load(data, base, check_files=True)
    except SceneError as exc:
        assert exc.problems and all(p.location and p.message for p in exc.problems)


@st.composite
def mutated_documents(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(DOCUMENTS)).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "token"]))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 20))]
        elif kind == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 40))]
        else:
            data[at:at] = draw(st.sampled_from([
                b'"', b"<", b">", b"/>", b"&amp;", b"&x;", b"<!DOCTYPE x>", b"NaN", b"1e999", b"-", b"%", b"null",
                b"true", b"[]", b"{}", b",", b'="', b"<use mask=\"ball\"/>", b"\xef\xbb\xbf", b"\x00", b"99999999999999999999",
            ]))
    return bytes(data)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=8,
)


@st.composite
def json_with_replaced_values(draw) -> str:
    docs = [p for p in DOCUMENTS if p.read_text(errors="replace").lstrip().startswith("{")]
    try:
        doc = json.loads(draw(st.sampled_from(docs)).read_text())
    except ValueError:
        doc = {}
    for _ in range(draw(st.integers(1, 3))):
        node = doc
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            if not isinstance(node[key], (dict, list)):
                break
            node = node[key]
        if isinstance(node, dict) and node:
            node[draw(st.sampled_from(sorted(node)))] = draw(json_values)
        elif isinstance(node, list) and node:
            node[draw(st.integers(0, len(node) - 1))] = draw(json_values)
    return json.dumps(doc)


@SETTINGS
@given(data=mutated_documents())
def test_mutated_documents_only_raise_scene_errors(data: bytes, sandbox: Path):
    only_scene_errors(data, sandbox)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200),
                      st.builds(lambda s: "<" + s, st.text(max_size=100)), st.builds(lambda s: "{" + s, st.text(max_size=100))))
def test_random_documents_only_raise_scene_errors(data, sandbox: Path):
    only_scene_errors(data, sandbox)


@SETTINGS
@given(doc=json_with_replaced_values())
def test_json_with_random_values_only_raises_scene_errors(doc: str, sandbox: Path):
    only_scene_errors(doc, sandbox)


@SETTINGS
@given(scene=scenes(), value=st.one_of(text, st.just("<"), st.just("&"), st.just("]]>")))
def test_xml_with_random_attribute_values_only_raises_scene_errors(scene: m.Scene, value: str, sandbox: Path):
    tree = etree.fromstring(dump(scene, "xml").encode())
    elements = list(tree.iter())
    for el in elements[:: max(1, len(elements) // 3)]:
        for name in list(el.attrib)[:1]:
            el.set(name, value)
    only_scene_errors(etree.tostring(tree, encoding="unicode"), sandbox)
