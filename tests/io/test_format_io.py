"""Reading and writing both forms: conformance round trips, canonical writing, strictness, located problems."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest

import designedit
from designedit.model import scene as m
from designedit.errors import SceneError
from designedit.io import FormatWarning, detect_form, dump, load, load_text, read_file

from shared_paths import CONFORMANCE, cases, checked  # noqa: E402
VALID = cases(lambda: sorted(p for p in CONFORMANCE.iterdir() if p.name.endswith((".dedit", ".dedit.json"))))


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> Path:
    """A writable copy of the conformance folder (pictures and documents)."""
    folder = tmp_path_factory.mktemp("conformance")
    for p in CONFORMANCE.iterdir():
        if p.is_file():
            shutil.copy(p, folder / p.name)
    return folder


def problems_of(text: str, base: Path, check_files: bool = True, name: str = "doc") -> list[str]:
    with pytest.raises(SceneError) as info:
        load_text(text, name, checked(base), check_files=check_files)
    return [str(p) for p in info.value.problems]


@pytest.mark.shared
def test_conformance_documents_exist():
    assert len(VALID) >= 10


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_conformance_round_trips_through_both_forms(path: Path):
    scene = load(path)
    assert scene.origin.path == path and scene.origin.base == path.parent.absolute()
    for form in ("xml", "json"):
        first = dump(scene, form)
        assert detect_form(first) == form
        again = load_text(first, "first", path.parent)
        assert again == scene
        other = "json" if form == "xml" else "xml"
        back = load_text(dump(again, other), "other", path.parent)
        assert back == scene
        assert dump(back, form) == first  # a second conversion is byte-identical


@pytest.mark.shared
@pytest.mark.parametrize("stem", ["remove", "move-resize"])
def test_pairs_load_to_equal_models(stem: str):
    xml = load(CONFORMANCE / f"{stem}.dedit")
    js = load(CONFORMANCE / f"{stem}.dedit.json")
    assert xml == js
    assert dump(xml, "json") == dump(js, "json")


def test_form_is_told_by_content_not_name(pictures: Path):
    # zoom-out.dedit is JSON; an XML document named .json loads too.
    assert read_file(pictures / "zoom-out.dedit").form == "json"
    (pictures / "xml-named.json").write_text((pictures / "pan.dedit").read_text())
    loaded = read_file(pictures / "xml-named.json")
    assert loaded.form == "xml" and loaded.scene == load(pictures / "pan.dedit")


@pytest.mark.shared
def test_canonical_text_shape():
    scene = load(CONFORMANCE / "move-resize.dedit")
    xml = dump(scene, "xml")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<dedit version="1.0">\n  <prompt>')
    assert '    <move dx="25%" dy="-16"/>\n' in xml and xml.endswith("</dedit>\n")
    js = dump(scene, "json")
    assert js.startswith('{\n  "dedit": "1.0",\n')
    assert '{"op": "resize", "scale": 0.75}' in js and js.endswith("}\n")
    assert json.loads(js)["layers"][0]["transforms"][1] == {"op": "move", "dx": "25%", "dy": -16}


@pytest.mark.shared
def test_numbers_are_written_minimally():
    text = '{"dedit": "1.0", "images": [{"id": "p", "src": "poster.png"}], "background": {"image": "p", ' \
           '"edits": [{"op": "pan", "dx": 10.0, "dy": -0.0}, {"op": "zoom-out", "factor": 1.50}]}}'
    scene = load_text(text, "doc", CONFORMANCE)
    xml = dump(scene, "xml")
    assert '<pan dx="10" dy="0"/>' in xml and '<zoom-out factor="1.5"/>' in xml
    assert '{"op": "pan", "dx": 10, "dy": 0}' in dump(scene, "json")


@pytest.mark.shared
def test_defaults_are_left_out_and_attribute_order_is_stable():
    text = """<dedit version="1.0"><image src="poster.png" id="p"/>
      <mask grow="0" invert="false" id="m" feather="2"><rect height="3" width="4" y="2" x="1"/></mask>
      <background image="p"/><layer keep="false" mask="m" image="p" id="l" x="0"/></dedit>"""
    xml = dump(load_text(text, "doc", CONFORMANCE), "xml")
    assert '<image id="p" src="poster.png"/>' in xml
    assert '<mask id="m" feather="2">' in xml and '<rect x="1" y="2" width="4" height="3"/>' in xml
    assert '<layer id="l" image="p" mask="m"/>' in xml


def test_text_survives_both_forms():
    prompt = 'a "quoted" <b> & \'c\'\n  second line\twith tab\r and CR, ünïcödé ✓'
    scene = m.Scene(version="1.0", prompt=prompt, images=[m.Image(id="p", src="a b&c.png")],
                    background=m.Background(image="p"))
    for form in ("xml", "json"):
        again = load_text(dump(scene, form), "doc", ".", check_files=False)
        assert again.prompt == prompt and again.images[0].src == "a b&c.png"


@pytest.mark.shared
def test_utf8_bom_is_accepted_in_both_forms():
    for form in ("xml", "json"):
        text = dump(load(CONFORMANCE / "remove.dedit"), form)
        scene = load_text(b"\xef\xbb\xbf" + text.encode(), "doc", CONFORMANCE)
        assert scene == load(CONFORMANCE / "remove.dedit")


@pytest.mark.shared
def test_newer_minor_version_loads_with_a_warning():
    text = '{"dedit": "1.9", "images": [{"id": "p", "src": "poster.png"}], "background": {"image": "p"}}'
    with pytest.warns(FormatWarning, match="1.9 is newer"):
        scene = load_text(text, "doc", CONFORMANCE)
    assert scene.version == "1.9"
    assert '"dedit": "1.9"' in dump(scene, "json")


def test_newer_major_version_is_refused_alone():
    text = '<dedit version="2.1"><whatever/><image id="p" src="poster.png"/><background image="p"/></dedit>'
    assert problems_of(text, CONFORMANCE) == [
        "doc:1:8: format version 2.1 is newer than this reader, which reads 1.x; upgrade dedit to read it"
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"dedit": "1.0", "canvas": {"width": NaN, "height": 1}}', "doc:1:38: NaN is not a number JSON allows"),
        ('{"dedit": "1.0", "canvas": {"width": Infinity, "height": 1}}', "Infinity is not a number JSON allows"),
        ('{"dedit": "1.0", "canvas": {"width": 1e999, "height": 1}}', "doc#/canvas/width: this number is too large to be a .dedit value"),
        ('{"dedit": "1.0", "dedit": "1.0", "background": {"image": "p"}}', "doc#/dedit: the key 'dedit' appears more than once"),
        ('{"dedit": "1.0", "background": {"image": "p", "image": "q"}}', "doc#/background/image: the key 'image' appears more than once"),
        ('{"dedit": "1.0", "prompt": "a\\u0000b", "background": {"image": "p"}}', "doc#/prompt: the text holds the character U+0000"),
        ('{"dedit": "1.0", "background": {"image": "p"}', "doc:1:46: the JSON is not well-formed"),
        ('[{"dedit": "1.0"}]', "doc: the document is neither XML"),
        ("   \n\t ", "doc: the document is empty"),
    ],
)
def test_json_is_strict(text: str, expected: str):
    assert any(p.startswith(expected) or expected in p for p in problems_of(text, CONFORMANCE, check_files=False))


def test_every_problem_of_a_document_is_reported_with_its_place():
    text = """<?xml version="1.0"?>
<dedit version="1.0" colour="red">
  <image id="poster" src="poster.png"/>
  <mask id="ball" src="ball-mask.png" grow="lots"/>
  <mask id="a"><use mask="b"/></mask>
  <mask id="b"><use mask="a"/></mask>
  <background image="ball">
    <remove mask="poster"/>
    <explode/>
  </background>
  <layer id="l" image="poster" mask="ball" keep="yes">
    <move dx="10"/>
    <resize scale="0"/>
  </layer>
</dedit>
"""
    assert problems_of(text, CONFORMANCE) == [
        "doc:2:22: unknown attribute 'colour' on <dedit>; expected one of version",
        "doc:4:39: grow must be a number of pixels, not 'lots'",
        "doc:6:21: masks use each other in a cycle: a -> b -> a",
        "doc:7:15: 'ball' is a mask, but image must name an image",
        "doc:8:13: 'poster' is an image, but mask must name a mask",
        "doc:9:5: unknown element <explode> in <background>; expected one of <remove>, <pan>, <zoom-out>",
        "doc:11:44: keep must be true or false, not 'yes'",
        "doc:12:5: <move> needs a dy attribute",
        "doc:13:13: scale must be a number above 0, not 0",
    ]


def test_json_problems_are_located_by_pointer():
    text = json.dumps({
        "dedit": "1.0",
        "images": [{"id": "p", "src": "poster.png", "alt": "x"}],
        "masks": [{"id": "m", "shapes": [{"shape": "polygon", "points": [[1, 2], [3, "4px"], [5, 6]]}, {"shape": "star"}]}],
        "background": {"image": "p", "edits": [{"op": "pan", "dx": "1 %", "dy": 0}]},
        "layers": [{"id": "l", "image": "p", "mask": "m", "transforms": [{"dx": 1}]}],
        "output": {},
    })
    assert problems_of(text, CONFORMANCE) == [
        "doc#/images/0/alt: unknown key 'alt'; expected one of id, src",
        "doc#/masks/0/shapes/0/points: points must be a list of at least three [x, y] pairs, each coordinate a number or a percentage",
        "doc#/masks/0/shapes/1/shape: unknown shape 'star'; expected one of 'rect', 'ellipse', 'polygon', 'use', 'attention'",
        "doc#/background/edits/0/dx: dx must be a number of pixels or a percentage like '25%', not '1 %'",
        "doc#/layers/0/transforms/0/op: this item needs an 'op' key naming what it is",
        "doc#/output/path: 'path' is required",
    ]


def test_xml_safety_refusals_are_located():
    doctype = '<?xml version="1.0"?>\n<!DOCTYPE dedit [<!ENTITY x "y">]>\n<dedit version="1.0"/>'
    assert problems_of(doctype, CONFORMANCE)[0].startswith("doc:2:1: DOCTYPE declarations are not allowed")
    # a DOCTYPE inside a comment is only a comment
    commented = '<!-- <!DOCTYPE x> --><dedit version="1.0"><image id="p" src="poster.png"/><background image="p"/></dedit>'
    assert load_text(commented, "doc", CONFORMANCE).images[0].id == "p"
    latin = '<?xml version="1.0" encoding="latin-1"?><dedit version="1.0"/>'
    assert "declares encoding 'latin-1'" in problems_of(latin, CONFORMANCE)[0]
    undefined = '<dedit version="1.0"><prompt>&nbsp;</prompt></dedit>'
    assert problems_of(undefined, CONFORMANCE)[0].startswith("doc:1:36: the XML is not well-formed")
    not_utf8 = b'<dedit version="1.0">\n<prompt>caf\xe9</prompt></dedit>'
    assert problems_of(not_utf8, CONFORMANCE) == ["doc:2:12: the document is not UTF-8 text (byte 0xe9 here)"]


def test_reference_checks():
    text = json.dumps({
        "dedit": "1.0",
        "images": [{"id": "p", "src": "poster.png"}, {"id": "p", "src": "backdrop.png"}],
        "masks": [{"id": "m", "shapes": [{"shape": "use", "mask": "m"}]},
                  {"id": "n", "shapes": [{"shape": "use", "mask": "nope"}]}],
        "background": {"image": "q", "edits": [{"op": "remove", "mask": "m", "refine": "p"}]},
        "layers": [{"id": "l", "image": "m", "mask": "m", "occluder": "zz"}, {"id": "l", "image": "p", "mask": "n"}],
    })
    assert problems_of(text, CONFORMANCE) == [
        "doc#/images/1/id: another image already has the id 'p'; ids of images must be unique",
        "doc#/masks/0/shapes/0/mask: mask 'm' uses itself",
        "doc#/masks/1/shapes/0/mask: no mask has the id 'nope'",
        "doc#/background/image: no image has the id 'q'",
        "doc#/background/edits/0/refine: 'p' is an image, but refine must name a mask",
        "doc#/layers/0/image: 'm' is a mask, but image must name an image",
        "doc#/layers/0/occluder: no mask has the id 'zz'",
        "doc#/layers/1/id: another layer already has the id 'l'; ids of layers must be unique",
    ]


def test_refs_check_on_a_scene_built_in_code():
    from designedit.checks import refs

    scene = m.Scene(version="1.0", background=m.Background(image="nothing"))
    with pytest.raises(SceneError, match=r"<scene>#/background/image: no image has the id 'nothing'"):
        refs.check(scene)


def test_file_checks(pictures: Path, tmp_path: Path):
    outside = tmp_path / "outside.png"
    shutil.copy(pictures / "poster.png", outside)
    (pictures / "link.png").unlink(missing_ok=True)
    (pictures / "link.png").symlink_to(outside)
    (pictures / "folder").mkdir(exist_ok=True)
    text = json.dumps({
        "dedit": "1.0",
        "canvas": {"width": 9000, "height": 9000},
        "images": [{"id": "a", "src": "link.png"}, {"id": "b", "src": "missing.png"}, {"id": "c", "src": "README.md"},
                   {"id": "d", "src": "C:\\x.png"}, {"id": "e", "src": "file:///etc/passwd"}, {"id": "f", "src": "poster.png"}],
        "masks": [{"id": "m", "src": "folder"}],
        "background": {"image": "f"},
        "layers": [{"id": "l", "image": "f"}, {"id": "s", "image": "f", "mask": "m"}],
        "output": {"path": "folder"},
    })
    found = problems_of(text, pictures)
    assert found[0] == "doc#/canvas: the canvas is 9000x9000 pixels, above the limit of 40 megapixels"
    assert found[1].startswith("doc#/images/0/src: 'link.png' points outside the allowed folder")
    assert found[2:] == [
        "doc#/images/1/src: 'missing.png' does not exist",
        "doc#/images/2/src: README.md is not a picture this reader can read (PNG, JPEG, WebP, ...)",
        "doc#/images/3/src: 'C:\\x.png' is an absolute path; file references are relative to the document",
        "doc#/images/4/src: 'file:///etc/passwd' is a URL; only files relative to the document are allowed",
        "doc#/masks/0/src: 'folder' is not a file",
        "doc#/layers/0: layer 'l' has no mask and its picture poster.png has no alpha channel; give the layer a mask",
        "doc#/output/path: 'folder' is a folder; the output path names the picture to write",
    ]
    jpeg = text.replace('"path": "folder"', '"path": "out/result.JPG"')
    assert problems_of(jpeg, pictures)[-1] == "doc#/output/path: 'out/result.JPG' must end in .png; dedit writes PNG pictures"
    # without opening pictures, the canvas limit and the path rules still apply, and nothing else is reported
    skipped = problems_of(text, pictures, check_files=False)
    assert skipped == [found[0], found[1]] + [p for p in found[2:] if "URL" in p or "absolute" in p or "is a folder" in p]
    fine = json.loads(text)
    fine.update(canvas={"width": 900, "height": 900}, output={"path": "out.png"})
    fine["images"] = [i for i in fine["images"] if i["id"] in ("b", "c", "f")]
    assert load_text(json.dumps(fine), "doc", pictures, check_files=False).canvas.width == 900


def test_root_widens_where_references_may_point(pictures: Path):
    sub = pictures / "sub"
    sub.mkdir(exist_ok=True)
    doc = sub / "up.dedit"
    doc.write_text('<dedit version="1.0"><image id="p" src="../poster.png"/><background image="p"/></dedit>')
    with pytest.raises(SceneError, match="points outside the allowed folder"):
        load(doc)
    scene = load(doc, root=pictures)
    assert scene.origin.root == pictures.absolute() and scene.origin.base == sub.absolute()


def test_missing_and_unreadable_files(tmp_path: Path):
    with pytest.raises(SceneError, match="the file does not exist"):
        load(tmp_path / "nope.dedit")
    with pytest.raises(SceneError, match="a folder, not a .dedit document"):
        load(tmp_path)


@pytest.mark.shared
def test_public_api_delegates_to_io():
    scene = designedit.load(CONFORMANCE / "remove.dedit")
    assert designedit.dump(scene, "json") == dump(scene, "json")
    with pytest.raises(ValueError):
        dump(scene, "yaml")


@pytest.mark.shared
def test_points_keep_percentages_and_decimals():
    text = '<dedit version="1.0"><image id="p" src="poster.png"/><mask id="m">' \
           '<polygon points="0,0 50%,0.5 -1.25,1e2"/></mask><background image="p"/></dedit>'
    scene = load_text(text, "doc", CONFORMANCE)
    assert scene.masks[0].shapes[0].points == [(0, 0), ("50%", 0.5), (-1.25, 100.0)]
    assert 'points="0,0 50%,0.5 -1.25,100"' in dump(scene, "xml")
    assert '"points": [[0, 0], ["50%", 0.5], [-1.25, 100]]' in dump(scene, "json")


@pytest.mark.shared
def test_no_warning_for_current_version():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(CONFORMANCE / "compose.dedit")


def test_problem_sentences_have_no_pydantic_jargon():
    text = (CONFORMANCE / "invalid" / "bad-values.dedit").read_text()
    for p in problems_of(text, CONFORMANCE / "invalid"):
        assert not re.search(r"Input should|type=|pydantic|errors\.pydantic", p), p


# ------------------------------------------------------------------ format 1.1: resize by width and height

RESIZE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="{version}">
  <image id="p" src="poster.png"/>
  <background image="p"/>
  <layer id="l" image="p">
    <resize {attrs}/>
  </layer>
</dedit>
"""


def _resize_json(version: str, resize: dict) -> str:
    return json.dumps({"dedit": version, "images": [{"id": "p", "src": "poster.png"}], "background": {"image": "p"},
                       "layers": [{"id": "l", "image": "p", "transforms": [{"op": "resize", **resize}]}]})


@pytest.mark.shared
def test_format_1_1_resizes_by_a_width_and_a_height_ratio_in_both_forms():
    """Issue 12, 9f. The ratios are `scale-x` / `scale-y` in both forms (as every name is the same in both,
    hyphenated like zoom-out); Python code names them scale_x / scale_y. One left out is 1."""
    xml = RESIZE_XML.format(version="1.1", attrs='scale-x="1.5" scale-y="0.5"')
    scene = load_text(xml, "doc", CONFORMANCE, check_files=False)
    (resize,) = scene.layers[0].transforms
    assert (resize.scale, resize.scale_x, resize.scale_y, resize.factors) == (None, 1.5, 0.5, (1.5, 0.5))
    assert resize == m.Resize(scale_x=1.5, scale_y=0.5)
    assert dump(scene, "xml") == xml
    js = dump(scene, "json")
    assert '{"op": "resize", "scale-x": 1.5, "scale-y": 0.5}' in js
    assert load_text(js, "doc", CONFORMANCE, check_files=False) == scene
    assert load_text(_resize_json("1.1", {"scale-y": 2}), "doc", CONFORMANCE, check_files=False).layers[0].transforms[0].factors == (1.0, 2.0)


@pytest.mark.shared
def test_a_1_0_document_reads_as_before_and_is_refused_where_it_uses_scale_x():
    """1.0 documents read exactly as before; the per-axis ratios need 1.1, said where they are written."""
    old = load_text(RESIZE_XML.format(version="1.0", attrs='scale="0.5"'), "doc", CONFORMANCE, check_files=False)
    assert old.layers[0].transforms[0].model_dump() == {"op": "resize", "scale": 0.5}  # as 1.0 dumped it (scene hash)
    assert problems_of(RESIZE_XML.format(version="1.0", attrs='scale-x="1.5" scale-y="0.5"'), CONFORMANCE, False) == [
        'doc:6:13: scale-x needs format version 1.1 or later; this document says 1.0: write version="1.1" to use it',
        'doc:6:27: scale-y needs format version 1.1 or later; this document says 1.0: write version="1.1" to use it',
    ]
    assert problems_of(_resize_json("1.0", {"scale-y": 2}), CONFORMANCE, False) == [
        'doc#/layers/0/transforms/0/scale-y: scale-y needs format version 1.1 or later; this document says 1.0: '
        'write "dedit": "1.1" to use it'
    ]


@pytest.mark.parametrize("form", ["xml", "json"])
def test_scale_and_the_per_axis_ratios_are_mutually_exclusive_and_one_is_needed(form):
    def doc(**resize):
        if form == "xml":
            return RESIZE_XML.format(version="1.1", attrs=" ".join(f'{k}="{v}"' for k, v in resize.items()))
        return _resize_json("1.1", resize)

    where = "doc:6:5" if form == "xml" else "doc#/layers/0/transforms/0"
    assert problems_of(doc(**{"scale": 2, "scale-x": 1.5}), CONFORMANCE, False) == [
        f"{where}: scale cannot be combined with scale-x or scale-y: give scale for a uniform resize, or scale-x and "
        "scale-y for one by width and height"]
    needs = "<resize> needs a scale attribute" if form == "xml" else "'scale' is required"
    assert problems_of(doc(), CONFORMANCE, False) == [f"{where}: {needs} (or scale-x and scale-y)" if form == "xml"
                                                     else f"{where}: {needs} (or 'scale-x' and 'scale-y')"]
    # the Python names are no document's: scale_x is an unknown key or attribute
    unknown = problems_of(doc(scale_x=2), CONFORMANCE, False)
    assert any("unknown" in p and "'scale_x'" in p for p in unknown), unknown
    assert problems_of(doc(**{"scale-x": 0}), CONFORMANCE, False)[0].endswith("scale-x must be a number above 0, not 0")
    assert problems_of(doc(**{"scale-y": 20000}), CONFORMANCE, False)[0].endswith("scale-y must be between 0.0001 and 10000, not 20000")


def test_a_scene_built_in_code_is_held_to_its_version_too(tmp_path):
    import numpy as np

    from designedit.compiler import compile_scene

    shutil.copy(CONFORMANCE / "poster.png", tmp_path / "poster.png")
    text = RESIZE_XML.format(version="1.1", attrs='scale-x="0.5"').replace(
        '<image id="p" src="poster.png"/>', '<image id="p" src="poster.png"/>\n  <mask id="b"><rect x="300" y="150" width="120" height="120"/></mask>'
    ).replace('<layer id="l" image="p">', '<layer id="l" image="p" mask="b">')
    scene = load_text(text, "doc", tmp_path)
    ys, xs = np.nonzero(compile_scene(scene).masks["layer:l@canvas"].data >= 128)
    assert (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) == (60, 120)  # half as wide, as tall
    built = m.Scene(**{**scene.model_dump(exclude={"layers"}), "version": "1.0",
                       "layers": [m.Layer(id="l", image="p", mask="b", transforms=[m.Resize(scale_x=0.5)])]})
    built.with_origin(scene.origin)
    with pytest.raises(SceneError, match="scale-x needs format version 1.1"):
        compile_scene(built)
