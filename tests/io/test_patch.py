"""io.patch: the smallest textual change for a gesture, and io.scene_file: writing it back only over the text it
was made from.

The cases in patch_cases/ (cases.json: input, calls, expected) pin the layout of what is written; the
properties below hold on every valid conformance document, every example and every case input."""

from __future__ import annotations

import json
from decimal import Decimal
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designedit.errors import ArgumentError, SceneError
from designedit.io import detect_form, json_form, load, patch
from designedit.io import json_spans, xml_spans
from designedit.io.scene_file import read_scene_text, write_if_unchanged
from designedit.model import scene as m
from shared_paths import CONFORMANCE, PRESENT

HERE = Path(__file__).parent
CASES_DIR = HERE / "patch_cases"
CASES = json.loads((CASES_DIR / "cases.json").read_text())
ROOT = HERE.parents[1]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def form_of(path: Path) -> str:
    """The form as the reader tells it, by content (conformance's zoom-out.dedit is JSON)."""
    return detect_form(read_scene_text(path))


def documents() -> list[Path]:
    """Valid documents that have layers: the conformance set (read in place, nothing is rendered), the
    examples and the cases' inputs."""
    found = sorted(CASES_DIR.glob("*.in.dedit*")) + sorted((ROOT / "examples").glob("*.dedit*"))
    if PRESENT:
        found += sorted(p for p in CONFORMANCE.glob("*") if p.name.endswith((".dedit", ".dedit.json")))
    return [p for p in found if patch.read_scene(read_scene_text(p), form_of(p), str(p)).layers]


DOCUMENTS = documents()
LAYERS = [(doc, layer.id) for doc in DOCUMENTS
          for layer in patch.read_scene(read_scene_text(doc), form_of(doc)).layers]
deltas = st.one_of(st.integers(-300, 300), st.integers(-600, 600).map(lambda v: v / 2))  # whole and half pixels


def test_the_properties_see_the_conformance_documents():
    # the moving ones at least: a property run over nothing would pass
    names = {doc.name for doc in DOCUMENTS}
    assert {"move-resize.dedit", "move-resize.dedit.json", "multi-layer.dedit", "move-sun.dedit"} <= names


# ------------------------------------------------------------------ the cases


@pytest.mark.parametrize("case", CASES, ids=[c["expected"] for c in CASES])
def test_case(case):
    text = read_scene_text(CASES_DIR / case["input"])
    form = form_of(CASES_DIR / case["input"])
    for name, layer, *args in case["calls"]:
        text = getattr(patch, name)(text, form, layer, *args, source=case["input"])
    assert text == read_scene_text(CASES_DIR / case["expected"]), case["why"]


# ------------------------------------------------------------------ properties


def last_move_changes(scene: m.Scene, layer_id: str, dx: float, dy: float) -> m.Scene:
    """The model edit a move stands for (spec: the last move changed, unless it must add pixels to a
    percentage; else one move appended)."""
    layers = list(scene.layers)
    index = next(i for i, layer in enumerate(layers) if layer.id == layer_id)
    transforms = list(layers[index].transforms)
    last = transforms[-1] if transforms else None
    changed = {name: delta for name, delta in (("dx", dx), ("dy", dy)) if delta != 0}
    if isinstance(last, m.Move) and not any(isinstance(getattr(last, name), str) for name in changed):
        transforms[-1] = last.model_copy(update={name: decimal_sum(getattr(last, name), delta) for name, delta in changed.items()})
    elif changed:
        transforms.append(m.Move(dx=dx, dy=dy))
    layers[index] = layers[index].model_copy(update={"transforms": transforms})
    return scene.model_copy(update={"layers": layers})


def decimal_sum(a: float, b: float) -> float:
    """Values add as decimals do, each number taken as its shortest spelling (0.1 + 0.2 is written 0.3)."""
    total = float(Decimal(repr(a)) + Decimal(repr(b)))
    return int(total) if total.is_integer() else total


def layer_span(text: str, form: str, index: int) -> tuple[int, int]:
    if form == "xml":
        element = [c for c in xml_spans.scan(text).children if c.tag == "layer"][index]
        return element.start, element.end
    start = len(text) - len(text.lstrip("\ufeff"))
    node = json_spans.scan(text, start).member("layers").value.items[index]
    return node.start, node.end


def last_transform_span(text: str, form: str, index: int) -> tuple[int, int]:
    if form == "xml":
        element = [c for c in xml_spans.scan(text).children if c.tag == "layer"][index].children[-1]
        return element.start, element.end
    start = len(text) - len(text.lstrip("\ufeff"))
    node = json_spans.scan(text, start).member("layers").value.items[index].member("transforms").value.items[-1]
    return node.start, node.end


def changed_region(before: str, after: str) -> tuple[int, int, str]:
    """(start, end) of what changed in `before`, and what stands there in `after`."""
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    return prefix, len(before) - suffix, after[prefix : len(after) - suffix]


@pytest.mark.parametrize("doc,layer_id", LAYERS, ids=[f"{d.name}:{lid}" for d, lid in LAYERS])
def test_a_zero_move_is_byte_identical(doc, layer_id):
    text = read_scene_text(doc)
    assert patch.move_layer(text, form_of(doc), layer_id, 0, 0) is text
    assert patch.move_layer(text, form_of(doc), layer_id, 0.0, -0.0) is text


@pytest.mark.parametrize("doc,layer_id", LAYERS, ids=[f"{d.name}:{lid}" for d, lid in LAYERS])
@SETTINGS
@given(dx=deltas, dy=deltas)
def test_a_move_reads_as_the_model_edit_and_touches_only_its_layer(doc, layer_id, dx, dy):
    text, form = read_scene_text(doc), form_of(doc)
    before = patch.read_scene(text, form)
    after_text = patch.move_layer(text, form, layer_id, dx, dy)
    after = patch.read_scene(after_text, form)
    assert json_form.to_plain(after) == json_form.to_plain(last_move_changes(before, layer_id, dx, dy))
    if dx == 0 and dy == 0:
        assert after_text == text
        return
    index = next(i for i, layer in enumerate(before.layers) if layer.id == layer_id)
    start, end, inserted = changed_region(text, after_text)
    layer_start, layer_end = layer_span(text, form, index)
    assert layer_start <= start <= end <= layer_end  # nothing outside the layer changes
    transforms = before.layers[index].transforms
    if len(after.layers[index].transforms) == len(transforms):  # in place: only the move's numbers
        move_start, move_end = last_transform_span(text, form, index)
        assert move_start <= start <= end <= move_end
        assert set(text[start:end]) | set(inserted) <= set("-0123456789.eE+ '\"dxy=:,")
    elif text[layer_start:layer_end].rstrip().endswith("/>") and not transforms:
        assert set(text[start:end]) <= set(" \t\r\n/>")  # a self-closing layer: only its '/>' (and spaces before) opens
    else:
        assert text[start:end].strip() == ""  # one insertion, nothing removed but the spaces of an empty list
        assert inserted.count("move") == 1 and "dx" in inserted and "dy" in inserted


@pytest.mark.parametrize("doc,layer_id", LAYERS, ids=[f"{d.name}:{lid}" for d, lid in LAYERS])
@SETTINGS
@given(a=st.tuples(deltas, deltas), b=st.tuples(deltas, deltas))
def test_two_moves_compose(doc, layer_id, a, b):
    text, form = read_scene_text(doc), form_of(doc)
    twice = patch.move_layer(patch.move_layer(text, form, layer_id, *a), form, layer_id, *b)
    once = patch.move_layer(text, form, layer_id, a[0] + b[0], a[1] + b[1])
    assert sum_of_moves(patch.read_scene(twice, form), layer_id) == sum_of_moves(patch.read_scene(once, form), layer_id)
    last = next(layer for layer in patch.read_scene(text, form).layers if layer.id == layer_id).transforms[-1:]
    if last and isinstance(last[0], m.Move) and not isinstance(last[0].dx, str) and not isinstance(last[0].dy, str):
        assert twice == once  # a pixel move is changed in place either way: the same text


def sum_of_moves(scene: m.Scene, layer_id: str) -> tuple:
    """The pixel moves after the layer's other transforms, summed, with the percentages kept apart."""
    layer = next(layer for layer in scene.layers if layer.id == layer_id)
    pixels, kept = [0.0, 0.0], []
    for t in layer.transforms:
        if isinstance(t, m.Move):
            for axis, value in enumerate((t.dx, t.dy)):
                if isinstance(value, str):
                    kept.append((axis, value))
                else:
                    pixels[axis] += value
        else:
            kept.append(json_form.to_plain(t))
    return tuple(pixels), tuple(map(str, kept))


# ------------------------------------------------------------------ other edits


@pytest.mark.parametrize("name", ["move-resize.dedit", "move-resize.dedit.json"])
def test_set_move_to_the_values_written_is_byte_identical(name):
    text = read_scene_text(CONFORMANCE / name)
    form = form_of(CONFORMANCE / name)
    assert patch.set_move(text, form, "ball", "25%", -16) is text  # an unchanged ORA leaves the scene as it was
    changed = patch.set_move(text, form, "ball", "25%", 9)
    assert changed.replace("9", "-16", 1) == text


def test_add_transform_writes_each_op_with_the_formats_names():
    text = read_scene_text(CASES_DIR / "self-closing.in.dedit")
    for op, attrs, written in [("flip", {"axis": "horizontal"}, '<flip axis="horizontal"/>'),
                               ("resize", {"scale": 1.25}, '<resize scale="1.25"/>'),
                               ("rotate", {"degrees": -90.0}, '<rotate degrees="-90"/>'),
                               ("move", {"dx": "10%", "dy": 3}, '<move dx="10%" dy="3"/>')]:
        assert written in patch.add_transform(text, "xml", "ball", op, attrs)


# ------------------------------------------------------------------ refusals


def test_no_such_layer_is_a_located_sentence():
    text = read_scene_text(CASES_DIR / "pretty.in.dedit.json")
    with pytest.raises(SceneError) as caught:
        patch.move_layer(text, "json", "nope", 1, 1, source="scene.dedit.json")
    assert str(caught.value) == "scene.dedit.json: no layer 'nope' (its layers: 'ball', 'b', 'c', 'd', 'e')"


def test_a_broken_document_gives_the_readers_problems():
    text = read_scene_text(CASES_DIR / "crlf.in.dedit").replace("</layer>", "", 1)
    with pytest.raises(SceneError) as caught:
        patch.move_layer(text, "xml", "ball", 1, 1, source="s.dedit")
    assert str(caught.value).startswith("s.dedit:") and "not well-formed" in str(caught.value)


@pytest.mark.parametrize("call,error,words", [
    (("move_layer", "ball", 70000, 0), SceneError, "would make the scene invalid"),  # past the length limit
    (("add_transform", "ball", "resize", {"scale-x": 2}), SceneError, "needs format version 1.1"),
    (("add_transform", "ball", "shear", {"x": 2}), ArgumentError, "cannot add 'shear'"),
    (("add_transform", "ball", "flip", {"axis": "diagonal"}), ArgumentError, "cannot add 'flip'"),
    (("move_layer", "ball", float("nan"), 0), ArgumentError, "finite"),
])
def test_a_change_the_format_refuses_is_refused(call, error, words):
    text = read_scene_text(CASES_DIR / "quotes-order.in.dedit")
    name, layer, *args = call
    with pytest.raises(error) as caught:
        getattr(patch, name)(text, "xml", layer, *args, source="s.dedit")
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_the_form_must_be_the_texts():
    text = read_scene_text(CASES_DIR / "compact.in.dedit.json")
    with pytest.raises(ArgumentError, match="holds the JSON form, not XML"):
        patch.move_layer(text, "xml", "ball", 1, 1)


# ------------------------------------------------------------------ writing back


def test_write_if_unchanged_writes_the_edit_and_keeps_the_bom(tmp_path):
    path = tmp_path / "scene.dedit"
    path.write_bytes((CASES_DIR / "bom-percent.in.dedit").read_bytes())
    path.chmod(0o640)
    text = read_scene_text(path)
    assert not text.startswith("\ufeff")
    new = patch.move_layer(text, "xml", "ball", 0, 8)
    assert write_if_unchanged(path, text, new)
    assert path.read_bytes() == (CASES_DIR / "bom-percent.dy.dedit").read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["scene.dedit"]


def test_a_utf16_scene_stays_utf16(tmp_path):
    xml = read_scene_text(CASES_DIR / "crlf.in.dedit").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = tmp_path / "scene.dedit"
    path.write_bytes(xml.encode("utf-16"))  # with its byte order mark, as XML requires
    text = read_scene_text(path)
    new = patch.move_layer(text, "xml", "ball", 3, 4)
    assert write_if_unchanged(path, text, new)
    raw = path.read_bytes()
    assert raw[:2] in (b"\xff\xfe", b"\xfe\xff") and raw.decode("utf-16") == new
    assert '<move dx="3" dy="4"/>' in new
    scene = load(path, check_files=False)
    assert scene.layers[0].transforms[-1] == m.Move(dx=3, dy=4)


def test_write_if_unchanged_refuses_a_file_changed_meanwhile(tmp_path):
    path = tmp_path / "scene.dedit"
    path.write_bytes((CASES_DIR / "crlf.in.dedit").read_bytes())
    text = read_scene_text(path)
    new = patch.move_layer(text, "xml", "ball", 1, 1)
    edited = text.replace('degrees="15"', 'degrees="20"').encode()
    path.write_bytes(edited)  # a text editor saved first
    assert not write_if_unchanged(path, text, new)
    assert path.read_bytes() == edited
    path.unlink()
    assert not write_if_unchanged(path, text, new)
    assert not path.exists()


def test_a_save_during_the_write_wins(tmp_path, monkeypatch):
    import designedit.io.atomic as atomic

    path = tmp_path / "scene.dedit"
    path.write_bytes((CASES_DIR / "crlf.in.dedit").read_bytes())
    text = read_scene_text(path)
    new = patch.move_layer(text, "xml", "ball", 1, 1)
    saved = text.replace('degrees="15"', 'degrees="30"').encode()
    real_fsync = atomic.os.fsync

    def editor_saves(fd):  # while the temporary file is being written, after the first comparison
        real_fsync(fd)
        path.write_bytes(saved)

    monkeypatch.setattr(atomic.os, "fsync", editor_saves)
    assert not write_if_unchanged(path, text, new)
    assert path.read_bytes() == saved
    assert [p.name for p in tmp_path.iterdir()] == ["scene.dedit"]  # no temporary file left


def test_write_if_unchanged_rewrites_a_links_target(tmp_path):
    real = tmp_path / "real.dedit"
    real.write_bytes((CASES_DIR / "compact.in.dedit.json").read_bytes())
    link = tmp_path / "link.dedit"
    link.symlink_to(real.name)
    text = read_scene_text(link)
    assert write_if_unchanged(link, text, patch.move_layer(text, "json", "b", 2, 0))
    assert link.is_symlink() and '"op":"move","dx":2,"dy":0' in real.read_text()
    assert os.readlink(link) == real.name
