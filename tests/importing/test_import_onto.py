"""The round trip back: `dedit render --layers` writes an OpenRaster stack, a designer nudges a layer in a
design program and saves, and `dedit import STACK --onto SCENE` changes that layer's move and nothing else.
The stack is edited here as a program would save it: its stack.xml rewritten with one layer's offset
changed, with dedit's recorded places kept (a text edit) or dropped (a program that writes its own)."""

from __future__ import annotations

import difflib
import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from designedit.cli import main
from designedit.importing import import_comp

from comps import copy_comp


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """full.psd imported (XML, with a comment added by hand) and rendered with --layers: (scene text, stack)."""
    folder = tmp_path_factory.mktemp("onto")
    comp = copy_comp("full.psd", folder)
    import_comp(comp, folder / "scene.dedit")
    text = (folder / "scene.dedit").read_text().replace("<layer id=\"sticker\"", "<!-- pasted from the mood board -->\n  <layer id=\"sticker\"")
    (folder / "scene.dedit").write_text(text)
    assert main(["render", str(folder / "scene.dedit"), "-o", str(folder / "out.png"), "--layers", str(folder / "layers"),
                 "--renderer", "preview"]) == 0
    return folder, text, folder / "layers" / "out.ora"


def resaved(stack: Path, target: Path, nudge: dict[str, tuple[int, int]], keep_recorded: bool = True) -> Path:
    """`stack` saved again as `target`, each named layer's x/y moved by its nudge."""
    with zipfile.ZipFile(stack) as zin:
        members = {info.filename: zin.read(info) for info in zin.infolist()}
    xml = members["stack.xml"].decode()
    for name, (dx, dy) in nudge.items():
        def moved(match):
            element = match.group(0)
            element = re.sub(r' x="(-?\d+)"', lambda m: f' x="{int(m.group(1)) + dx}"', element, count=1)
            return re.sub(r' y="(-?\d+)"', lambda m: f' y="{int(m.group(1)) + dy}"', element, count=1)
        xml = re.sub(rf'<layer name="{re.escape(name)}"[^>]*>', moved, xml)
    if not keep_recorded:
        xml = re.sub(r' dedit:[xy]="-?\d+"', "", xml)
    members["stack.xml"] = xml.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zout:
        for name, data in members.items():
            zout.writestr(name, data, compress_type=zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    target.write_bytes(buf.getvalue())
    return target


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("keep_recorded", [True, False], ids=["places recorded", "places dropped by the program"])
def test_unchanged_stack_leaves_the_scene_byte_identical(rendered, tmp_path, keep_recorded, capsys):
    folder, text, stack = rendered
    scene = Path(shutil.copy(folder / "scene.dedit", tmp_path / "scene.dedit"))
    shutil.copytree(folder / "scene-pictures", tmp_path / "scene-pictures")
    before = scene.read_bytes()
    edited = resaved(stack, tmp_path / "edited.ora", {}, keep_recorded)
    assert main(["import", str(edited), "--onto", str(scene)]) == 0
    assert scene.read_bytes() == before
    assert capsys.readouterr().out.strip().endswith("unchanged")


@pytest.mark.parametrize("keep_recorded", [True, False], ids=["places recorded", "places dropped by the program"])
@pytest.mark.parametrize("layer,nudge,was,now", [
    ("ball-copy", (25, 0), '<move dx="-60" dy="-8"/>', '<move dx="-35" dy="-8"/>'),
    ("ball-copy", (-25, 25), '<move dx="-60" dy="-8"/>', '<move dx="-85" dy="17"/>'),
])
def test_a_nudge_changes_only_that_layers_move(rendered, tmp_path, keep_recorded, layer, nudge, was, now):
    folder, text, stack = rendered
    scene = Path(shutil.copy(folder / "scene.dedit", tmp_path / "scene.dedit"))
    shutil.copytree(folder / "scene-pictures", tmp_path / "scene-pictures")
    edited = resaved(stack, tmp_path / "edited.ora", {layer: nudge}, keep_recorded)
    assert main(["import", str(edited), "--onto", str(scene)]) == 0
    assert changed_lines(text, scene.read_text()) == [f"-    {was}", f"+    {now}"]


def test_a_layer_without_a_move_gains_one(rendered, tmp_path):
    """The pasted sticker had no transform: the nudge appends a move (the comment above it stays)."""
    folder, text, stack = rendered
    scene = Path(shutil.copy(folder / "scene.dedit", tmp_path / "scene.dedit"))
    edited = resaved(stack, tmp_path / "edited.ora", {"sticker": (0, 25)})
    assert main(["import", str(edited), "--onto", str(scene)]) == 0
    after = scene.read_text()
    assert "<!-- pasted from the mood board -->" in after
    assert changed_lines(text, after) == [
        '-  <layer id="sticker" image="sticker" x="-12" y="6"/>',
        '+  <layer id="sticker" image="sticker" x="-12" y="6">',
        '+    <move dx="0" dy="25"/>',
        "+  </layer>",
    ]


def test_json_scene_and_a_layer_the_scene_does_not_have(rendered, tmp_path, capsys):
    folder, _, stack = rendered
    comp = copy_comp("full.psd", tmp_path)
    import_comp(comp, tmp_path / "scene.dedit", form="json")
    scene = tmp_path / "scene.dedit"
    text = scene.read_text()
    edited = resaved(stack, tmp_path / "edited.ora", {"ball-copy": (25, 0)})
    with zipfile.ZipFile(edited) as zf:  # a layer the designer added: not the scene's
        xml = zf.read("stack.xml").decode()
    xml = xml.replace("<stack>", '<stack>\n  <layer name="new idea" src="data/000-background.png" x="0" y="0"/>')
    _replace_member(edited, "stack.xml", xml.encode())
    assert main(["import", str(edited), "--onto", str(scene)]) == 0
    captured = capsys.readouterr()
    assert "layer 'new idea': the scene has no layer 'new idea'; it is ignored" in captured.err
    assert changed_lines(text, scene.read_text()) == [
        '-        {"op": "move", "dx": -60, "dy": -8}',
        '+        {"op": "move", "dx": -35, "dy": -8}',
    ]


def _replace_member(path: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(path) as zin:
        members = {info.filename: zin.read(info) for info in zin.infolist()}
    members[name] = data
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zout:
        for member, content in members.items():
            zout.writestr(member, content)
    path.write_bytes(buf.getvalue())


def test_a_stack_resaved_by_krita(tmp_path, capsys):
    """tests/fixtures/design/full-rendered-krita.ora: full.psd imported, rendered with --layers, and the stack
    saved again by Krita 5 (make_fixtures.sh): Krita writes its own stack.xml, without dedit's recorded places
    and with layers cropped its own way. Unchanged, the scene stays byte-identical; a 25 px nudge of one layer
    in Krita's stack.xml changes only that layer's move."""
    comp = copy_comp("full.psd", tmp_path)
    scene = tmp_path / "scene.dedit"
    import_comp(comp, scene)
    before = scene.read_bytes()
    stack = copy_comp("full-rendered-krita.ora", tmp_path)
    assert b"dedit:" not in zipfile.ZipFile(stack).read("stack.xml")
    assert main(["import", str(stack), "--onto", str(scene)]) == 0
    assert scene.read_bytes() == before
    with zipfile.ZipFile(stack) as zf:
        xml = zf.read("stack.xml").decode()
    nudged = re.sub(r'(name="ball-copy" x=")(\d+)"', lambda m: f'{m.group(1)}{int(m.group(2)) + 25}"', xml)
    assert nudged != xml
    _replace_member(stack, "stack.xml", nudged.encode())
    assert main(["import", str(stack), "--onto", str(scene)]) == 0
    assert changed_lines(before.decode(), scene.read_text()) == ['-    <move dx="-60" dy="-8"/>', '+    <move dx="-35" dy="-8"/>']
