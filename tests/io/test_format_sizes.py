"""How much a document may hold (spec/format.md 4.1): documents past a limit are refused with one located
sentence before any pass does work that grows faster than the document. Speed itself is measured by
bench/hostile_documents.py; the timeouts here only guard against a hang (the audit's cases ran for minutes)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from designedit.errors import SceneError
from designedit.io import load_text
from designedit.model.vocab import MAX_ATTRIBUTES, MAX_DEPTH, MAX_EDITS, MAX_ELEMENTS, MAX_LAYERS, MAX_POINTS, MAX_VALUES

from shared_paths import CONFORMANCE  # noqa: E402

GUARD_S = 20
HEAD = '<dedit version="1.0">\n<image id="poster" src="poster.png"/>\n'
JHEAD = {"dedit": "1.0", "images": [{"id": "poster", "src": "poster.png"}]}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    shutil.copyfile(CONFORMANCE / "poster.png", tmp_path / "poster.png")
    return tmp_path


def validate(folder: Path, text: str, name: str = "doc.dedit") -> tuple[int, list[str]]:
    """`dedit validate` in its own process, so that a hang fails the test instead of stopping the run."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, "-m", "designedit", "validate", "-q", str(path)], capture_output=True,
                              text=True, timeout=GUARD_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"dedit validate ran for more than {GUARD_S} s")
    return done.returncode, [line.replace(str(path), "doc") for line in done.stderr.splitlines()]


def problems(text: str, folder: Path) -> list[str]:
    with pytest.raises(SceneError) as info:
        load_text(text, "doc", folder, check_files=False)
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------ the audit's cases


def test_three_thousand_pans_are_refused_at_the_first_edit_past_the_limit(folder):
    pans = '<pan dx="1" dy="0"/>' * 3000
    status, err = validate(folder, HEAD + f'<background image="poster">{pans}</background>\n</dedit>\n')
    col = len('<background image="poster">') + 20 * MAX_EDITS + 1
    assert (status, err) == (2, [f"doc:3:{col}: a background has at most {MAX_EDITS} edits, not 3000"])


def test_fifty_thousand_attributes_are_refused_at_their_element(folder):
    attrs = "".join(f' a{i}="1"' for i in range(50_000))
    status, err = validate(folder, HEAD + f"<background image=\"poster\"{attrs}/>\n</dedit>\n")
    assert (status, err) == (2, [f"doc:3:1: <background> has 50001 attributes; an element has at most {MAX_ATTRIBUTES}"])


@pytest.mark.parametrize("form", ["xml", "json"])
def test_a_polygon_of_two_hundred_thousand_points_is_refused(folder, form):
    coords = [(i % 500, 0 if i % 2 else 383) for i in range(200_000)]
    if form == "xml":
        points = " ".join(f"{x},{y}" for x, y in coords)
        text = HEAD + f'<mask id="m"><polygon points="{points}"/></mask>\n<background image="poster"><remove mask="m"/></background>\n</dedit>\n'
        expected = f"doc:3:23: {_points_sentence(200_000)}"
    else:
        doc = {**JHEAD, "masks": [{"id": "m", "shapes": [{"shape": "polygon", "points": coords}]}],
               "background": {"image": "poster", "edits": [{"op": "remove", "mask": "m"}]}}
        text = json.dumps(doc)
        expected = f"doc#/masks/0/shapes/0/points: the document holds more than {MAX_VALUES} values, the limit"
    status, err = validate(folder, text)
    assert (status, err) == (2, [expected])


def _points_sentence(total: int) -> str:
    return f"the polygons of a document hold at most {MAX_POINTS} points in all; with this one they hold {total}"


@pytest.mark.parametrize("form", ["xml", "json"])
def test_points_are_counted_over_all_polygons(folder, form):
    half = [(i % 500, 0 if i % 2 else 383) for i in range(MAX_POINTS // 2 + 1)]
    if form == "xml":
        points = " ".join(f"{x},{y}" for x, y in half)
        shapes = f'<polygon points="{points}"/>\n<polygon points="{points}"/>'
        text = HEAD + f'<mask id="m">{shapes}</mask>\n<background image="poster"/>\n</dedit>\n'
        assert problems(text, folder) == [f"doc:4:10: {_points_sentence(2 * len(half))}"]
        assert load_text(text.replace(points, " ".join(f"{x},{y}" for x, y in half[:-2]), 1), "doc", folder, check_files=False)
    else:
        shape = {"shape": "polygon", "points": half}
        doc = {**JHEAD, "masks": [{"id": "m", "shapes": [shape, shape]}], "background": {"image": "poster"}}
        assert problems(json.dumps(doc), folder) == [f"doc#/masks/0/shapes/1/points: {_points_sentence(2 * len(half))}"]


def test_a_polygon_whose_edges_cross_every_row_is_accepted(folder):
    """Filling costs a row's work per edge crossing it: the old loop repainted the box for every edge."""
    points = " ".join(f"{i * 500 / MAX_POINTS:.3f},{0 if i % 2 else 383}" for i in range(MAX_POINTS))
    status, err = validate(folder, HEAD + f'<mask id="m"><polygon points="{points}"/></mask>\n'
                           '<background image="poster"><remove mask="m"/></background>\n</dedit>\n')
    assert (status, err) == (0, [])


# ------------------------------------------------------------------ counts


def test_elements_past_the_limit_are_refused_at_the_first_one_past_it(folder):
    masks = "".join(f'<mask id="m{i}"><rect x="1" y="1" width="2" height="2"/></mask>\n' for i in range(MAX_ELEMENTS // 2))
    text = HEAD + masks + '<background image="poster"/>\n</dedit>\n'
    # the root and the image come first, then two elements a mask: the last mask is the first past the limit
    assert problems(text, folder) == [f"doc:{3 + (MAX_ELEMENTS - 2) // 2}:1: the document holds more than {MAX_ELEMENTS} elements, the limit"]
    fits = HEAD + masks.split("\n", 2)[2] + '<background image="poster"/>\n</dedit>\n'
    assert load_text(fits, "doc", folder, check_files=False)


def test_json_objects_past_the_limit_are_refused(folder):
    doc = {**JHEAD, "masks": [{"id": f"m{i}", "shapes": [{"shape": "rect", "x": 1, "y": 1, "width": 2, "height": 2}]}
                              for i in range(MAX_ELEMENTS // 2)], "background": {"image": "poster"}}
    assert problems(json.dumps(doc), folder) == [f"doc#/masks/{MAX_ELEMENTS // 2 - 1}: the document holds more than {MAX_ELEMENTS} objects, the limit"]


def test_comments_past_the_limit_are_refused(folder):
    text = HEAD + "<!-- a note -->\n" * (MAX_ELEMENTS + 1) + '<background image="poster"/>\n</dedit>\n'
    assert problems(text, folder) == [f"doc:{3 + MAX_ELEMENTS}:1: the document holds more than {MAX_ELEMENTS} comments, "
                                      "processing instructions and CDATA sections, the limit"]


def test_attributes_past_the_limit_in_all_are_refused(folder):
    attrs = "".join(f' a{j}="1"' for j in range(MAX_ATTRIBUTES - 2))  # each image at the limit of one element
    n = (MAX_VALUES - 3) // MAX_ATTRIBUTES + 1  # with the root's version and the poster's id and src: one past
    images = "".join(f'<image id="i{i}" src="poster.png"{attrs}/>\n' for i in range(n))
    found = problems(HEAD + images + '<background image="poster"/>\n</dedit>\n', folder)
    assert found == [f"doc:{2 + n}:1: the document holds more than {MAX_VALUES} attributes, the limit"]


def test_a_json_object_of_many_keys_is_refused(folder):
    doc = {**JHEAD, "background": {"image": "poster", **{f"k{i}": 1 for i in range(MAX_ATTRIBUTES)}}}
    assert problems(json.dumps(doc), folder) == [f"doc#/background: this object has {MAX_ATTRIBUTES + 1} keys; an object has at most {MAX_ATTRIBUTES}"]


def test_layers_past_the_limit_are_refused(folder):
    layers = "".join(f'<layer id="l{i}" image="poster" mask="m" keep="true"/>\n' for i in range(MAX_LAYERS + 1))
    text = HEAD + '<mask id="m"><rect x="1" y="1" width="9" height="9"/></mask>\n<background image="poster"/>\n' + layers + "</dedit>\n"
    assert problems(text, folder) == [f"doc:{5 + MAX_LAYERS}:1: a document has at most {MAX_LAYERS} layers, not {MAX_LAYERS + 1}"]


# ------------------------------------------------------------------ depth (1.1: 255 levels in both forms)


def test_xml_nesting_past_255_levels_is_refused(folder):
    def nested(levels: int) -> str:  # the root is the first level
        return '<dedit version="1.0">' + "<a>" * (levels - 1) + "</a>" * (levels - 1) + "</dedit>"

    col = len('<dedit version="1.0">') + 3 * (MAX_DEPTH - 1) + 1
    assert problems(nested(MAX_DEPTH + 1), folder) == [f"doc:1:{col}: the document nests too deeply"]
    assert "nests too deeply" not in " ".join(problems(nested(MAX_DEPTH), folder))


def test_json_nesting_past_255_levels_is_refused(folder):
    def nested(levels: int) -> str:  # the document's object is the first level
        return '{"dedit": "1.0", "prompt": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"

    assert problems(nested(MAX_DEPTH + 1), folder) == ["doc#/prompt" + "/0" * (MAX_DEPTH - 1) + ": the document nests too deeply"]
    assert "nests too deeply" not in " ".join(problems(nested(MAX_DEPTH), folder))
    deep = problems(nested(5000), folder)  # past Python's own limit: still located
    col = len('{"dedit": "1.0", "prompt": ') + MAX_DEPTH
    assert deep == [f"doc:1:{col}: the document nests too deeply"]
