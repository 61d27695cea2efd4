"""`dedit fmt` and XML-to-XML `convert` keep the author's XML comments, each next to its element."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree

from designedit.cli import main
from designedit.io import dump, load, read_file
from designedit.io.xml_comments import Comments

from shared_paths import CONFORMANCE, cases  # noqa: E402

XML_DOCS = cases(lambda: sorted(p.name for p in CONFORMANCE.glob("*.dedit") if p.read_text().lstrip().startswith("<")))


def _paths(root) -> dict:
    """Each element -> its path of (tag, n-th of that tag among its siblings), computed here independently."""
    out = {root: ()}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        seen: dict[str, int] = {}
        for child in el:
            if isinstance(child.tag, str):
                out[child] = out[el] + ((child.tag, seen.get(child.tag, 0)),)
                seen[child.tag] = seen.get(child.tag, 0) + 1
    return out


def _name(path) -> str:
    return "/".join(f"{t}.{n}" for t, n in path) or "root"


def _annotate(text: str) -> tuple[str, int]:
    """The document with a comment before every element, after every empty one (same line) and at the end
    of every element with children, each comment naming its anchor; and how many were added."""
    root = etree.fromstring(text.encode())
    paths = _paths(root)
    count = 0
    for el, path in list(paths.items()):
        if path == ():
            continue
        el.addprevious(etree.Comment(f" before {_name(path)} "))
        count += 1
        if len(el) == 0 and el.tag != "prompt":
            el.addnext(etree.Comment(f" after {_name(path)} "))
            el.tail = None  # the comment sits on the element's line
            count += 1
        elif len(el):
            el.append(etree.Comment(f" end {_name(path)} "))
            count += 1
    return etree.tostring(root, encoding="unicode"), count


@pytest.mark.parametrize("name", XML_DOCS)
def test_fmt_keeps_every_comment_next_to_its_element(tmp_path: Path, name: str):
    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE, folder, ignore=shutil.ignore_patterns("invalid"))
    doc = folder / name
    annotated, count = _annotate(doc.read_text())
    doc.write_text(annotated)
    assert main(["fmt", str(doc)]) == 0
    out = doc.read_text()

    root = etree.fromstring(out.encode())
    paths = _paths(root)
    comments = [c for c in root.iter() if isinstance(c, etree._Comment)]
    assert len(comments) == count  # none lost, none doubled
    for c in comments:
        kind, anchor = c.text.split()
        if kind == "before":
            assert _name(paths[c.getnext()]) == anchor
        elif kind == "after":
            prev = c.getprevious()
            while isinstance(prev, etree._Comment):
                prev = prev.getprevious()
            assert _name(paths[prev]) == anchor
            assert "\n" not in (prev.tail or "")  # still on the element's line
        else:
            assert _name(paths[c.getparent()]) == anchor and c.getnext() is None

    # the comments change nothing else: stripped of them, the output is the canonical document
    assert load(doc) == load(CONFORMANCE / name, root=CONFORMANCE)
    bare = etree.tostring(etree.fromstring(out.encode(), etree.XMLParser(remove_comments=True)), encoding="unicode")
    assert dump(load_text_scene(bare, folder)) == dump(load(CONFORMANCE / name, root=CONFORMANCE))
    again = doc.read_bytes()
    assert main(["fmt", "--check", str(doc)]) == 0 and doc.read_bytes() == again  # stable


def load_text_scene(text: str, folder: Path):
    from designedit.io import load_text

    return load_text(text, "bare", folder, check_files=False)


def test_comments_outside_the_root_in_a_text_element_and_reordered_elements(tmp_path: Path, capsys):
    shutil.copy(CONFORMANCE / "poster.png", tmp_path / "poster.png")
    doc = tmp_path / "c.dedit"
    doc.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- v3 -->\n<dedit version="1.0">\n'
        "  <prompt>a <!-- inner --> poster</prompt>\n"
        '  <!-- the background, written last --><background image="p"/>\n'
        '  <image id="p" src="poster.png"><!-- in an empty element --></image>\n'
        "  <!-- closing\n       two lines -->\n</dedit>\n<!-- after -->\n"
    )
    assert main(["fmt", str(doc)]) == 0
    assert doc.read_text() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- v3 -->\n<dedit version="1.0">\n'
        "  <!-- inner -->\n"
        "  <prompt>a  poster</prompt>\n"
        '  <image id="p" src="poster.png">\n    <!-- in an empty element -->\n  </image>\n'
        "  <!-- the background, written last -->\n"
        '  <background image="p"/>\n'
        "  <!-- closing\n       two lines -->\n</dedit>\n<!-- after -->\n"
    )
    assert load(doc).prompt == "a  poster"


def test_convert_keeps_comments_in_xml_and_says_json_drops_them(tmp_path: Path, capsys):
    shutil.copy(CONFORMANCE / "poster.png", tmp_path / "poster.png")
    doc = tmp_path / "c.dedit"
    doc.write_text('<dedit version="1.0"><!-- a --><image id="p" src="poster.png"/><!-- b --><background image="p"/></dedit>')
    assert main(["convert", str(doc), "--to", "xml"]) == 0
    captured = capsys.readouterr()
    assert "<!-- a -->" in captured.out and "<!-- b -->" in captured.out and captured.err == ""
    assert main(["convert", str(doc), "--to", "json"]) == 0
    captured = capsys.readouterr()
    assert "a --" not in captured.out
    assert "2 XML comments are not kept (JSON has no comments)" in captured.err


def test_a_comment_whose_element_is_not_written_goes_before_the_root_end(tmp_path: Path):
    shutil.copy(CONFORMANCE / "poster.png", tmp_path / "poster.png")
    doc = tmp_path / "c.dedit"
    doc.write_text('<dedit version="1.0"><image id="p" src="poster.png"/><background image="p"/></dedit>')
    scene = read_file(doc).scene
    stray = Comments(anchored={("before", (("layer", 3),)): [" lost layer "], ("end", ()): [" last "]})
    text = dump(scene, "xml", stray)
    assert text.endswith("  <!-- last -->\n  <!-- lost layer -->\n</dedit>\n")


def test_documents_without_comments_read_none(tmp_path: Path):
    shutil.copy(CONFORMANCE / "poster.png", tmp_path / "poster.png")
    doc = tmp_path / "c.dedit"
    doc.write_text('<dedit version="1.0"><image id="p" src="poster.png"/><background image="p"/></dedit>')
    assert read_file(doc).comments is None


def test_fmt_reports_the_files_it_rewrote_even_when_another_is_refused(tmp_path: Path, capsys):
    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE, folder, ignore=shutil.ignore_patterns("invalid"))
    shutil.copy(CONFORMANCE / "invalid" / "malformed.dedit", folder / "malformed.dedit")
    good, bad = str(folder / "remove.dedit"), str(folder / "malformed.dedit")
    assert main(["fmt", "--check", good, bad]) == 2
    assert f"would reformat {good}" in capsys.readouterr().err
    assert main(["fmt", good, bad]) == 2
    captured = capsys.readouterr()
    assert f"reformatted {good}" in captured.out and "malformed.dedit:5:9" in captured.err
