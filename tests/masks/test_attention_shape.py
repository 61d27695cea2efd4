"""The attention mask shape (format 1.3) on the core's side, no model: both forms, the version and prompt
checks, the resolver with given maps (threshold, grow, invert, use, two pictures), stand-ins, and what
`dedit validate` and `dedit plan` say of masks that await a model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from designedit.cli import main
from designedit.errors import SceneError
from designedit.io import dump, load, load_text
from designedit.masks import MaskResolver
from designedit.masks.derived import Derived, attention_uses, awaiting_notes, select
from designedit.model import scene as m
from designedit.model.words import word_span

XML = """<dedit version="{version}">
  <prompt>{prompt}</prompt>
  <image id="p" src="p.png"/>
  <image id="q" src="q.png"/>
  <mask id="deco" grow="{grow}" invert="{invert}"><attention word="balloons"{threshold}/></mask>
  <mask id="both"><use mask="deco"/><rect x="0" y="0" width="2" height="2"/></mask>
  <background image="p"><remove mask="deco"/></background>
  <layer id="l" image="q" mask="both"/>
</dedit>"""


def write(folder: Path, version="1.3", prompt="red balloons over a cake", grow=0, invert="false", threshold="") -> Path:
    Image.fromarray(np.zeros((40, 80, 3), np.uint8)).save(folder / "p.png")
    Image.fromarray(np.zeros((40, 80, 3), np.uint8)).save(folder / "q.png")
    path = folder / "s.dedit"
    path.write_text(XML.format(version=version, prompt=prompt, grow=grow, invert=invert, threshold=threshold))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(SceneError) as caught:
        load(path)
    return [str(p) for p in caught.value.problems]


def test_both_forms_read_and_write_the_shape(tmp_path):
    scene = load(write(tmp_path, threshold=' threshold="0.25"'))
    shape = scene.mask("deco").shapes[0]
    assert isinstance(shape, m.Attention) and (shape.word, shape.threshold) == ("balloons", 0.25)
    as_json = json.loads(dump(scene, "json"))
    assert as_json["masks"][0]["shapes"] == [{"shape": "attention", "word": "balloons", "threshold": 0.25}]
    assert '<attention word="balloons" threshold="0.25"/>' in dump(scene, "xml")
    assert load_text(dump(scene, "json"), "doc", tmp_path) == scene
    assert load(write(tmp_path)).mask("deco").shapes[0].threshold == 0.5  # the default


@pytest.mark.parametrize("version, prompt, threshold, wanted", [
    ("1.1", "red balloons over a cake", "", ":5:43: attention needs format version 1.3 or later; this document says 1.1: write version=\"1.3\" to use it"),
    ("1.3", "a red balloonsmith", "", ":5:54: the prompt has no word 'balloons', so no attention to it can select anything"),
    ("1.3", "", "", "attention to 'balloons' needs a prompt that has that word"),
    ("1.3", "red balloons", ' threshold="1.5"', "threshold"),
])
def test_refusals_are_located(tmp_path, version, prompt, threshold, wanted):
    found = problems(write(tmp_path, version=version, prompt=prompt, threshold=threshold))
    assert any(wanted in p for p in found), found


def test_a_word_is_found_whole_and_in_any_case():
    assert word_span("Red  Balloons, a cake", "red balloons") == (0, 13)
    assert word_span("balloonsmith", "balloons") is None
    assert word_span(None, "x") is None


def test_uses_follow_use_chains_to_every_picture(tmp_path):
    scene = load(write(tmp_path))
    assert [(u.mask, u.image, u.word) for u in attention_uses(scene)] == [("deco", "p", "balloons"), ("deco", "q", "balloons")]


def grid() -> np.ndarray:
    g = np.zeros((4, 8), np.float32)
    g[1:3, 2:4] = 1.0  # pixels 20..39 x 10..29 on an 80x40 picture
    return g


def test_the_resolver_resizes_thresholds_and_applies_grow_invert_and_use(tmp_path):
    maps = {("p", "balloons"): grid(), ("q", "balloons"): np.zeros((4, 8), np.float32)}
    # 0.45: no pixel centre falls where the resized map is exactly the threshold (those at 0.5 are ties)
    scene = load(write(tmp_path, grow=2, threshold=' threshold="0.45"'))
    deco = MaskResolver(scene, 80, 40, derived=Derived(maps))("deco", "p") >= 128
    ys, xs = np.nonzero(deco)
    # the cells hold pixels 20..39 x 10..29; bilinear, the map is at least 0.5 on 19..40 x 9..30; grown by 2
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (17, 42, 7, 32)
    on_q = MaskResolver(scene, 80, 40, derived=Derived(maps))("both", "q") >= 128
    assert on_q.sum() == 4  # the map of q selects nothing: only the rect
    inverted = load(write(tmp_path, invert="true", threshold=' threshold="0.45"'))
    np.testing.assert_array_equal(MaskResolver(inverted, 80, 40, derived=Derived(maps))("deco", "p") >= 128,
                                  select(grid(), 0.45, (80, 40)) == 0)


def test_threshold_selects_where_the_resized_map_reaches_it():
    g = np.array([[0.0, 1.0]], np.float32)
    row = select(g, 0.5, (4, 1))[0] > 0  # bilinear at pixel centres: 0, .25, .75, 1
    assert list(row) == [False, False, True, True]
    assert select(g, 0.0, (4, 1)).all()


def test_without_a_map_the_shape_is_refused_at_its_word(tmp_path):
    scene = load(write(tmp_path))
    with pytest.raises(SceneError) as caught:
        MaskResolver(scene, 80, 40)("deco", "p")
    assert str(caught.value.problems[0]).endswith(
        "s.dedit:5:54: mask 'deco' awaits a model: where the prompt's 'balloons' draws attention on image 'p' is derived "
        "by a renderer that runs one (render with --model, or run `dedit masks` first)")


def test_a_stand_in_is_the_whole_picture_and_is_recorded(tmp_path):
    scene = load(write(tmp_path))
    derived = Derived(stand_in=True)
    assert (MaskResolver(scene, 80, 40, derived=derived)("deco", "p") == 255).all()
    assert derived.awaiting == [("p", "balloons")]
    assert awaiting_notes(scene) == ["mask 'deco' awaits a model (attention to 'balloons' on image 'p', 'balloons' on image "
                                     "'q'): the whole picture stands in for it here; `dedit render --model M` or `dedit masks` derives it"]


def test_validate_and_plan_say_which_masks_await_a_model(tmp_path, capsys):
    path = write(tmp_path)
    path.write_text(path.read_text().replace('<remove mask="deco"/>', ""))  # a layer of the whole picture compiles
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"note: {path}: mask 'deco' awaits a model (attention to 'balloons' on image 'q')" in err
    assert main(["plan", str(path)]) == 0
    captured = capsys.readouterr()
    assert "plan for s.dedit" in captured.out and "mask 'deco' awaits a model" in captured.err
