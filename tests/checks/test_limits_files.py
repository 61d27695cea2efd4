"""Broken pictures, path rules without file checks, and the wording of size and nesting limits."""

from __future__ import annotations

import io
import json
import shutil
import struct
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image

from designedit.cli import main
from designedit.compiler import compile_scene
from designedit.errors import SceneError
from designedit.io import MAX_DOCUMENT_BYTES, load
from designedit.errors import PictureError
from designedit.imaging.pictures import open_picture
from shared_paths import CONFORMANCE

XML = '<dedit version="1.0">\n  <image id="p" src="{src}"/>\n  <background image="p"/>\n</dedit>\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("poster.png", "ball-mask.png"):
        shutil.copy(CONFORMANCE / name, tmp_path / name)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    rc = main(list(argv))
    return rc, capsys.readouterr().err.splitlines()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.open(CONFORMANCE / "poster.png").convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


CUT = "cannot be decoded: the picture is cut short or damaged"
UNREADABLE = "is not a picture this reader can read (PNG, JPEG, WebP, ...)"


@pytest.mark.parametrize("name, data, why", [
    ("half.png", lambda: (CONFORMANCE / "poster.png").read_bytes()[: len((CONFORMANCE / "poster.png").read_bytes()) // 2], CUT),
    ("header.png", lambda: (CONFORMANCE / "poster.png").read_bytes()[:41], CUT),  # signature, IHDR, a chunk's start
    ("ihdr.png", lambda: (CONFORMANCE / "poster.png").read_bytes()[:33], UNREADABLE),  # Pillow wants one more chunk
    ("half.jpg", lambda: jpeg_bytes()[: len(jpeg_bytes()) // 2], CUT),
])
def test_validate_refuses_a_cut_short_picture_at_its_src(name, data, why, folder: Path, capsys):
    (folder / name).write_bytes(data())
    (folder / "doc.dedit").write_text(XML.format(src=name))
    (folder / "doc.dedit.json").write_text(json.dumps({"dedit": "1.0", "images": [{"id": "p", "src": name}], "background": {"image": "p"}}))
    rc, lines = run(capsys, "validate", str(folder / "doc.dedit"), str(folder / "doc.dedit.json"))
    sentence = f"{name} {why}"
    assert rc == 2 and lines == [f"{folder}/doc.dedit:2:17: {sentence}", f"{folder}/doc.dedit.json#/images/0/src: {sentence}"]
    rc, lines = run(capsys, "plan", str(folder / "doc.dedit"))
    assert rc == 2 and lines == [f"{folder}/doc.dedit:2:17: {sentence}"]


def test_whole_pictures_of_each_kind_validate(folder: Path, capsys):
    (folder / "whole.jpg").write_bytes(jpeg_bytes())
    (folder / "doc.dedit").write_text(XML.format(src="whole.jpg"))
    assert run(capsys, "validate", str(folder / "doc.dedit")) == (0, [])
    (folder / "doc.dedit").write_text(XML.format(src="poster.png"))
    assert run(capsys, "validate", str(folder / "doc.dedit")) == (0, [])


def test_a_picture_broken_after_validation_is_one_sentence_and_bad_input(folder: Path):
    data = (CONFORMANCE / "poster.png").read_bytes()
    (folder / "late.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(PictureError) as info:
        open_picture(folder / "late.png")
    assert str(info.value) == "late.png cannot be decoded: the picture is cut short or damaged"
    assert info.value.exit_status == 2
    (folder / "text.png").write_text("not a picture")
    with pytest.raises(PictureError, match=r"^text.png is not a picture this reader can read \(PNG, JPEG, WebP, ...\)$"):
        open_picture(folder / "text.png")


def test_a_mask_picture_broken_after_loading_is_refused_at_its_src(folder: Path):
    (folder / "cut.dedit").write_text(
        '<dedit version="1.0">\n  <image id="p" src="poster.png"/>\n  <mask id="m" src="ball-mask.png"/>\n'
        '  <background image="p"><remove mask="m"/></background>\n</dedit>\n'
    )
    scene = load(folder / "cut.dedit")
    data = (folder / "ball-mask.png").read_bytes()
    (folder / "ball-mask.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(SceneError) as info:
        compile_scene(scene)
    assert [str(p) for p in info.value.problems] == [
        f"{folder}/cut.dedit:3:16: ball-mask.png cannot be decoded: the picture is cut short or damaged"
    ]


ESCAPES = ["../../../../etc/passwd", "https://example.com/x.png", "/etc/passwd", "a\\b.png"]


@pytest.mark.parametrize("ref", ESCAPES)
def test_no_files_and_convert_still_apply_the_path_rules(ref: str, folder: Path, capsys):
    (folder / "escape.dedit.json").write_text(json.dumps({"dedit": "1.0", "images": [{"id": "p", "src": ref}], "background": {"image": "p"}}))
    doc = str(folder / "escape.dedit.json")
    for argv in (["validate", "--no-files", doc], ["convert", doc, "--to", "xml"], ["fmt", "--check", doc]):
        rc, lines = run(capsys, *argv)
        assert rc == 2 and len(lines) == 1 and lines[0].startswith(f"{doc}#/images/0/src: '"), (argv, lines)
        assert any(why in lines[0] for why in ("outside the allowed folder", "is a URL", "absolute path", "backslashes"))


def test_no_files_still_refuses_a_bad_output_path(folder: Path, capsys):
    (folder / "out.dedit").write_text(XML.replace("</dedit>", '  <output path="../out.jpg"/>\n</dedit>').format(src="missing.png"))
    rc, lines = run(capsys, "validate", "--no-files", str(folder / "out.dedit"))
    assert rc == 2 and lines == [f"{folder}/out.dedit:4:11: '../out.jpg' points outside the allowed folder {folder} (--root allows a wider one)"]


def test_a_root_that_does_not_exist_is_said_so(folder: Path, capsys):
    (folder / "doc.dedit").write_text(XML.format(src="poster.png"))
    rc, lines = run(capsys, "validate", "--root", str(folder / "nowhere"), str(folder / "doc.dedit"))
    assert rc == 2 and lines == [f"{folder}/doc.dedit: the root folder {folder}/nowhere does not exist"]
    rc, lines = run(capsys, "convert", "--root", str(folder / "poster.png"), str(folder / "doc.dedit"), "--to", "json")
    assert rc == 2 and lines == [f"{folder}/doc.dedit: the root folder {folder}/poster.png is not a folder"]


# ------------------------------------------------------------------ wording


def png_claiming(path: Path, width: int, height: int) -> Path:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("size, limit", [((7000, 7000), "40 megapixels"), ((16385, 10), "16384 pixels per side"),
                                         ((10, 20000), "16384 pixels per side")])
def test_a_picture_too_large_names_the_limit_it_breaks(size, limit, folder: Path, capsys):
    png_claiming(folder / "big.png", *size)
    (folder / "doc.dedit").write_text(XML.format(src="big.png"))
    rc, lines = run(capsys, "validate", str(folder / "doc.dedit"))
    assert rc == 2 and lines == [f"{folder}/doc.dedit:2:17: big.png is {size[0]}x{size[1]} pixels, above the limit of {limit}"]


def test_a_json_number_version_is_told_to_be_a_string(folder: Path, capsys):
    (folder / "v.dedit.json").write_text('{"dedit": 1.0, "images": [{"id": "p", "src": "poster.png"}], "background": {"image": "p"}}')
    (folder / "w.dedit.json").write_text('{"dedit": "one", "images": [{"id": "p", "src": "poster.png"}], "background": {"image": "p"}}')
    rc, lines = run(capsys, "validate", str(folder / "v.dedit.json"), str(folder / "w.dedit.json"))
    assert rc == 2 and lines == [
        f'{folder}/v.dedit.json#/dedit: dedit must be a string like "1.0", not the number 1.0',
        f'{folder}/w.dedit.json#/dedit: dedit must be a version like "1.0" (MAJOR.MINOR), not "one"',
    ]


def test_deep_xml_nests_too_deeply(folder: Path, capsys):
    (folder / "deep.dedit").write_text('<dedit version="1.0">' + "<a>" * 300 + "</a>" * 300 + "</dedit>")
    rc, lines = run(capsys, "validate", str(folder / "deep.dedit"))
    assert rc == 2 and len(lines) == 1 and lines[0].startswith(f"{folder}/deep.dedit:1:") and lines[0].endswith(": the document nests too deeply")


def test_a_document_over_the_size_limit_says_the_limit(folder: Path, capsys):
    (folder / "big.dedit").write_text('<dedit version="1.0"><prompt>' + "x" * MAX_DOCUMENT_BYTES + "</prompt></dedit>")
    rc, lines = run(capsys, "validate", str(folder / "big.dedit"))
    assert rc == 2 and lines == [f"{folder}/big.dedit: the document is more than {MAX_DOCUMENT_BYTES} bytes, the limit"]


def test_stray_text_is_reported_where_it_is(folder: Path, capsys):
    (folder / "stray.dedit").write_text(
        '<dedit version="1.0">\n  <image id="p" src="poster.png"/>\n  <background image="p"/>\n'
        "  <!-- a comment -->\n\n     stray text\n</dedit>\n"
    )
    (folder / "first.dedit").write_text('<dedit version="1.0">  hello <image id="p" src="poster.png"/><background image="p"/></dedit>')
    (folder / "inner.dedit").write_text('<dedit version="1.0"><image id="p" src="poster.png">\n x</image><background image="p"/></dedit>')
    # a '>' inside a comment or an attribute value is not the end of markup
    (folder / "angles.dedit").write_text('<dedit version="1.0"><!-- see a>b -->oops<image id="p" src="poster.png"/><background image="p"/></dedit>')
    (folder / "angles2.dedit").write_text(
        '<dedit version="1.0"><image id="p" src="poster.png"/><background image="p"/>'
        '<?note a>b?><mask id="m" src="a>b.png" grow="1"/> late</dedit>'
    )
    names = ["stray.dedit", "first.dedit", "inner.dedit", "angles.dedit", "angles2.dedit"]
    rc, lines = run(capsys, "validate", "--no-files", *(str(folder / n) for n in names))
    assert rc == 2 and lines == [
        f"{folder}/stray.dedit:6:6: unexpected text 'stray text' in <dedit>",
        f"{folder}/first.dedit:1:24: unexpected text 'hello' in <dedit>",
        f"{folder}/inner.dedit:2:2: unexpected text 'x' in <image>",
        f"{folder}/angles.dedit:1:38: unexpected text 'oops' in <dedit>",
        f"{folder}/angles2.dedit:1:127: unexpected text 'late' in <dedit>",
    ]


def test_a_newer_minor_version_is_noted_before_the_problems_it_explains(folder: Path, capsys):
    (folder / "minor.dedit.json").write_text(
        '{"dedit": "1.9", "images": [{"id": "p", "src": "poster.png"}], "background": {"image": "p"}, "sparkles": 1}'
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a refused document warns nothing: the note is among its problems
        rc, lines = run(capsys, "validate", str(folder / "minor.dedit.json"))
    doc = f"{folder}/minor.dedit.json"
    assert rc == 2 and lines == [
        f"{doc}#/dedit: note: format version 1.9 is newer than this reader (1.3); what it adds is unknown here, "
        "so it is refused as below",
        f"{doc}#/sparkles: unknown key 'sparkles'; expected one of dedit, canvas, prompt, render, images, masks, "
        "background, layers, output",
    ]
