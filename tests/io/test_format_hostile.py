"""Documents that once crashed the reader or slipped past it (found by an audit against format-v1.md):
each is now accepted or refused with exit status 2, a location and one sentence, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from designedit.cli import main

from shared_paths import CONFORMANCE  # noqa: E402

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<dedit version="1.0">\n  <image id="poster" src="poster.png"/>\n'


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    shutil.copyfile(CONFORMANCE / "poster.png", tmp_path / "poster.png")
    return tmp_path


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_a_use_chain_of_thousands_of_masks_renders(folder, capsys):
    n = 1500  # Python's recursion limit is 1000: the chain is resolved with explicit stacks
    masks = "".join(f'  <mask id="a{i}"><use mask="a{i + 1}"/></mask>\n' for i in range(n))
    doc = _write(folder, "chain.dedit", HEAD + masks + f'  <mask id="a{n}"><rect x="100" y="100" width="40" height="30"/></mask>\n'
                 '  <background image="poster"><remove mask="a0"/></background>\n</dedit>\n')
    assert main(["validate", str(doc)]) == 0
    assert main(["render", str(doc), "--renderer", "preview", "-o", str(folder / "out.png")]) == 0
    out = np.asarray(Image.open(folder / "out.png"))
    src = np.asarray(Image.open(folder / "poster.png").convert("RGB"))
    changed = np.argwhere((out != src).any(-1))
    assert changed.size and changed.min(0).tolist() >= [80, 80] and changed.max(0).tolist() <= [150, 160]


def test_a_long_use_cycle_is_reported_as_a_cycle(folder, capsys):
    n = 2000  # past Python's recursion limit, within the format's 4096 elements
    masks = "".join(f'  <mask id="a{i}"><use mask="a{(i + 1) % n}"/></mask>\n' for i in range(n))
    doc = _write(folder, "cycle.dedit", HEAD + masks + '  <background image="poster"><remove mask="a0"/></background>\n</dedit>\n')
    assert main(["validate", str(doc)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{doc}:{3 + n}:") and "masks use each other in a cycle: a0 -> a1 -> a2" in err[0]


def test_a_symbolic_link_loop_is_refused_where_it_is_named(folder, capsys):
    os.symlink("loop.png", folder / "loop.png")
    doc = _write(folder, "loop.dedit", HEAD + '  <mask id="m" src="loop.png"/>\n  <background image="poster"/>\n</dedit>\n')
    for args in (["validate"], ["validate", "--no-files"], ["render", "--renderer", "preview", "-o", str(folder / "o.png")]):
        assert main([*args, str(doc)] if args[0] == "validate" else [args[0], str(doc), *args[1:]]) == 2
        assert capsys.readouterr().err == f"{doc}:4:16: 'loop.png' cannot be followed (a symbolic link loop)\n"


def test_a_file_name_longer_than_the_system_allows(folder, capsys):
    name = "a" * 300 + ".png"
    doc = _write(folder, "long.dedit", HEAD + f'  <mask id="m" src="{name}"/>\n  <background image="poster"/>\n'
                 f'  <output path="{name}"/>\n</dedit>\n')
    assert main(["validate", str(doc)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[0] for line in err] == [f"{doc}:4:16", f"{doc}:6:11"]
    assert all("file name too long" in line.lower() for line in err)


def test_json_null_is_no_value(folder, capsys):
    base = {"dedit": "1.0", "images": [{"id": "poster", "src": "poster.png"}], "background": {"image": "poster"}}
    for key, where in [("prompt", "#/prompt"), ("canvas", "#/canvas"), ("output", "#/output"), ("render", "#/render")]:
        doc = folder / "n.dedit.json"
        doc.write_text(json.dumps({**base, key: None}))
        assert main(["validate", str(doc)]) == 2
        assert capsys.readouterr().err == f"{doc}{where}: null is not a value in .dedit documents; give one, or leave an optional key out\n"
    doc.write_text(json.dumps({**base, "layers": [{"id": "l", "image": "poster", "mask": None}]}))
    assert main(["validate", str(doc)]) == 2
    assert capsys.readouterr().err == f"{doc}#/layers/0/mask: null is not a value in .dedit documents; give one, or leave an optional key out\n"


@pytest.mark.parametrize("path", ["poster.png", "./poster.png", "sub/../poster.png"])
def test_an_output_that_would_overwrite_the_scene_s_picture(folder, capsys, path):
    (folder / "sub").mkdir()
    doc = _write(folder, "self.dedit", HEAD + f'  <background image="poster"/>\n  <output path="{path}"/>\n</dedit>\n')
    for args in (["validate"], ["validate", "--no-files"]):
        assert main([*args, str(doc)]) == 2
        assert capsys.readouterr().err == f"{doc}:5:11: {path!r} is one of the scene's own pictures; the output would overwrite it\n"


def test_an_empty_src_is_one_problem(folder, capsys):
    doc = _write(folder, "empty.dedit", HEAD.replace('src="poster.png"', 'src=""') + '  <background image="poster"/>\n</dedit>\n')
    assert main(["validate", str(doc)]) == 2
    assert capsys.readouterr().err == f"{doc}:3:22: src must be a non-empty text, not ''\n"


def test_prefixed_attributes_are_named_and_located_as_written(folder, capsys):
    doc = _write(folder, "ns.dedit", '<dedit version="1.0" xmlns:x="urn:x" x:foo="1">\n  <image id="poster" src="poster.png"/>\n'
                 '  <background image="poster" xml:lang="en"/>\n</dedit>\n')
    assert main(["validate", str(doc)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{doc}:1:38: unknown attribute 'x:foo' on <dedit>; expected one of version",
        f"{doc}:3:30: unknown attribute 'xml:lang' on <background>; expected one of image",
    ]


@pytest.mark.parametrize("ref, code", [("&#1;", "U+0001"), ("&#0;", "U+0000"), ("&#x1F;", "U+001F")])
def test_a_forbidden_character_reference_is_said_without_libxml2_names(folder, capsys, ref, code):
    doc = _write(folder, "cr.dedit", HEAD + f"  <prompt>a {ref} b</prompt>\n  <background image=\"poster\"/>\n</dedit>\n")
    assert main(["validate", str(doc)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{doc}:4:") and err.endswith(f"a character reference names {code}, which XML does not allow\n")
