"""Problems in plain words (issue 12, item 8): no libxml2 or pydantic wording, a suggestion for a misspelt
name, the allowed names listed in both forms, echoed values escaped and shortened, XML white space only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from designedit.errors import SceneError
from designedit.io import load_text

from shared_paths import CONFORMANCE, checked  # noqa: E402

HEAD = '<dedit version="1.0">\n<image id="poster" src="poster.png"/>\n'
TAIL = '<background image="poster"/>\n</dedit>\n'
JARGON = re.compile(r"xml[A-Z]|AttValue|attValue|EntityRef|entityRef|CharRef|StartTag|startTag|ParsePI|parsePI|amplification"
                    r"|Input should|instance of|type=|pydantic|Value error|\[line|QName|PCDATA")


def problems(text: str | bytes, base: Path = CONFORMANCE) -> list[str]:
    with pytest.raises(SceneError) as info:
        load_text(text, "doc", checked(base), check_files=False)
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------ libxml2's words


@pytest.mark.parametrize("snippet, sentence", [
    ("<prompt>salt & pepper</prompt>", "doc:3:15: the XML is not well-formed: a bare '&' must be written '&amp;'"),
    ("<prompt>R&D</prompt>", "doc:3:12: the XML is not well-formed: an '&' starts a reference that has no ';' to end it; "
                             "a bare '&' must be written '&amp;'"),
    ("<prompt>&nbsp;</prompt>", "doc:3:15: the XML is not well-formed: '&nbsp;' is no reference XML knows (only &amp; &lt; "
                                "&gt; &quot; &apos; and character references are); a bare '&' must be written '&amp;'"),
    ('<canvas width=512 height="1"/>', "doc:3:15: the XML is not well-formed: an attribute's value must be in quotes "
                                       "(an attribute is written name=\"value\")"),
    ('<canvas width="1" width="2"/>', "doc:3:28: the XML is not well-formed: the attribute 'width' is given twice"),
    ("<prompt>a</prmpt>", "doc:3:18: the XML is not well-formed: the end tag </prmpt> does not close <prompt> of line 3"),
    ("<prompt>&#xFFFFFFF;</prompt>", "doc:3:20: the XML is not well-formed: a character reference names a number past "
                                     "U+10FFFF, the last character"),
    ("<prompt>&#xZZ;</prompt>", "doc:3:12: the XML is not well-formed: a character reference (&#...;) does not hold a number"),
    ("<?bad:pi x?>", "doc:3:9: the XML is not well-formed: the processing instruction name 'bad:pi' may not hold ':'"),
    ("<prompt>x ]]> y</prompt>", "doc:3:11: the XML is not well-formed: ']]>' in text must be written ']]&gt;'"),
])
def test_syntax_errors_are_said_in_plain_words(snippet, sentence):
    assert problems(HEAD + snippet + "\n" + TAIL) == [sentence]


def test_document_text_in_a_syntax_error_stays_on_one_line():
    found = problems(HEAD + "<!-- one -- two\nthree -->\n" + TAIL)
    assert found == ["doc:3:10: the XML is not well-formed: a comment may not hold '--'"]


@pytest.mark.parametrize("text", [
    HEAD + '<image id="a" src="x.png" src/>' + TAIL, HEAD + "<image id='a\" src='x.png'/>" + TAIL, HEAD + "<a:b/>" + TAIL,
    HEAD + "<prompt>&#1;</prompt>" + TAIL, HEAD + "<!-- \x0c -->" + TAIL, HEAD + "<prompt>\x0b</prompt>" + TAIL,
    HEAD + '<image id="a" src="<"/>' + TAIL, HEAD + "<1/>" + TAIL, HEAD + "<image" + TAIL, HEAD + "<![CDATA[x" + TAIL,
    HEAD + "<?x" + TAIL, "<?xml version='1.0' encoding='UTF-8'?><?xml version='1.0'?>" + HEAD + TAIL,
    '<?xml version="1.0"' + HEAD + TAIL, HEAD + TAIL + "<extra/>", HEAD + '<image id="a" = "b"/>' + TAIL,
])
def test_no_libxml2_function_names_reach_users(text):
    for problem in problems(text):
        assert not JARGON.search(problem), problem
        assert "\n" not in problem and len(problem) < 200, problem


# ------------------------------------------------------------------ names: suggestions and the allowed ones


def test_a_misspelt_attribute_gets_a_suggestion_and_the_allowed_list_in_xml():
    assert problems(HEAD + '<layer id="l" image="poster" colour="red" ocluder="m"/>\n' + TAIL) == [
        "doc:3:30: unknown attribute 'colour' on <layer>; expected one of id, image, mask, x, y, keep, occluder",
        "doc:3:43: unknown attribute 'ocluder' on <layer> (did you mean 'occluder'?); expected one of id, image, mask, x, y, "
        "keep, occluder",
    ]


def test_a_misspelt_element_gets_a_suggestion():
    assert problems(HEAD + "<laeyr/>\n" + TAIL) == [
        "doc:3:1: unknown element <laeyr> in <dedit> (did you mean <layer>?); expected one of <canvas>, <prompt>, <render>, "
        "<image>, <mask>, <background>, <layer>, <output>"]
    found = problems(HEAD + '<background image="poster"><remvoe mask="m"/></background>\n</dedit>\n')
    assert found == ["doc:3:28: unknown element <remvoe> in <background> (did you mean <remove>?); expected one of <remove>, "
                     "<pan>, <zoom-out>"]


def test_json_names_get_suggestions_too():
    doc = {"dedit": "1.0", "images": [{"id": "poster", "scr": "poster.png"}], "backgrund": {"image": "poster"},
           "layers": [{"id": "l", "image": "poster", "transforms": [{"op": "mvoe", "dx": 1, "dy": 1}]}]}
    assert sorted(problems(json.dumps(doc))) == sorted([
        "doc#/images/0/scr: unknown key 'scr' (did you mean 'src'?); expected one of id, src",
        "doc#/images/0/src: 'src' is required",
        "doc#/backgrund: unknown key 'backgrund' (did you mean 'background'?); expected one of dedit, canvas, prompt, render, "
        "images, masks, background, layers, output",
        "doc#/layers/0/transforms/0/op: unknown op 'mvoe' (did you mean 'move'?); expected one of 'move', 'resize', 'flip', 'rotate'",
        "doc#/background: 'background' is required",
    ])


# ------------------------------------------------------------------ echoed values


def test_a_nul_in_a_name_is_echoed_escaped():
    """JSON strings holding a NUL are refused as such; a key is echoed, in the message and in the pointer."""
    doc = {"dedit": "1.0", "images": [{"id": "poster", "src": "poster.png"}], "background": {"image": "poster"},
           "masks": [{"id": "m", "src": "ball-mask.png", "s\u0000rc": 1}]}
    assert problems(json.dumps(doc)) == [
        "doc#/masks/0/s\\x00rc: unknown key 's\\x00rc' (did you mean 'src'?); expected one of id, src, shapes, invert, grow, feather"]


def test_a_megabyte_value_is_echoed_shortened(tmp_path):
    big, name = "a" * 1_000_000, "b" * 40_000  # libxml2 takes names of up to 50000 characters
    text = HEAD + f'<mask id="m" src="{big}.png" grow="{big}"/>\n<prompt {name}="1"/>\n' + TAIL
    with pytest.raises(SceneError) as info:
        load_text(text, "doc", tmp_path)  # with the file checks
    assert [str(p) for p in info.value.problems] == [
        "doc:2:20: 'poster.png' does not exist",
        f"doc:3:14: '{'a' * 77}...' cannot be followed (file name too long)",
        f"doc:3:1000025: grow must be a number of pixels, not '{'a' * 37}...'",
        f"doc:4:9: unknown attribute '{'b' * 37}...' on <prompt>; it takes none",
    ]


# ------------------------------------------------------------------ white space is XML's


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000"])
def test_a_unicode_space_around_a_number_is_no_white_space(space):
    text = HEAD + f'<canvas width="{space}512" height="384{space}"/>\n' + TAIL
    escaped = space.encode("unicode_escape").decode()
    assert problems(text) == [
        f"doc:3:9: width must be a whole number above 0, not '{escaped}512'",
        f"doc:3:22: height must be a whole number above 0, not '384{escaped}'",
    ]


def test_a_no_break_space_between_elements_is_text():
    assert problems(HEAD + "\u00a0\n" + TAIL) == ["doc:3:1: unexpected text '\\xa0' in <dedit>"]


def test_points_are_separated_by_xml_white_space_only():
    text = HEAD + '<mask id="m"><polygon points="0,0\u00a010,0 10,10"/></mask>\n' + TAIL
    assert problems(text) == ["doc:3:23: points must be at least three points written 'x,y x,y x,y', each coordinate a "
                              "number or a percentage, not '0,0\\xa010,0 10,10'"]
