"""Problems the compiler finds point into the document: file:line:col for XML, file#/pointer for JSON."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from designedit.model import scene as m
from designedit.cli import main
from designedit.compiler import compile_scene
from designedit.errors import SceneError
from designedit.io import dump, load
from shared_paths import CONFORMANCE

SHRINK = """<dedit version="1.0">
  <image id="p" src="poster.png"/>
  <mask id="m" src="ball-mask.png"/>
  <background image="p"/>
  <layer id="k" image="p" mask="m" keep="true"/>
    <layer id="l" image="p" mask="m">{ops}</layer>
</dedit>
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("poster.png", "ball-mask.png"):
        shutil.copy(CONFORMANCE / name, tmp_path / name)
    return tmp_path


def problems(scene) -> list[str]:
    with pytest.raises(SceneError) as info:
        compile_scene(scene)
    return [str(p) for p in info.value.problems]


def test_shrinking_to_nothing_points_at_the_layer_in_both_forms(folder: Path, capsys):
    (folder / "s.dedit").write_text(SHRINK.format(ops='<resize scale="0.01"/>' * 6))
    scene = load(folder / "s.dedit")
    assert problems(scene) == [f"{folder}/s.dedit:6:5: layer 'l': its transforms shrink the object to nothing"]
    (folder / "s.dedit.json").write_text(dump(scene, "json"))
    assert problems(load(folder / "s.dedit.json")) == [
        f"{folder}/s.dedit.json#/layers/1: layer 'l': its transforms shrink the object to nothing"
    ]
    capsys.readouterr()
    assert main(["plan", str(folder / "s.dedit")]) == 2
    assert capsys.readouterr().err.splitlines() == [f"{folder}/s.dedit:6:5: layer 'l': its transforms shrink the object to nothing"]


def test_a_scene_built_in_code_gets_a_pointer(folder: Path):
    scene = load(folder / "s.dedit") if (folder / "s.dedit").exists() else None
    assert scene is None
    built = m.Scene(
        version="1.0",
        images=[m.Image(id="p", src="poster.png")],
        masks=[m.Mask(id="m", shapes=[m.Rect(x=10, y=10, width=40, height=24)], invert=True, grow=-5000)],
        background=m.Background(image="p"),
        layers=[m.Layer(id="l", image="p", mask="m")],
    ).with_origin(m.Origin(None, folder, folder))
    assert problems(built) == ["<scene>#/layers/0: layer 'l': its mask selects nothing, so there is no object to place"]


def test_a_layer_without_mask_or_alpha_points_at_the_layer(folder: Path):
    built = m.Scene(version="1.0", images=[m.Image(id="p", src="poster.png")], background=m.Background(image="p"),
                    layers=[m.Layer(id="l", image="p")]).with_origin(m.Origin(folder / "x.dedit", folder, folder))
    assert problems(built) == [
        f"{folder}/x.dedit#/layers/0: layer 'l': has no mask and its image 'p' has no transparency to use as one"
    ]


def test_a_background_picture_broken_after_loading_points_at_its_src(folder: Path):
    (folder / "b.dedit").write_text(SHRINK.format(ops=""))
    scene = load(folder / "b.dedit")
    data = (folder / "poster.png").read_bytes()
    (folder / "poster.png").write_bytes(data[:10])
    assert problems(scene) == [f"{folder}/b.dedit:2:17: poster.png is not a picture this reader can read (PNG, JPEG, WebP, ...)"]


BROKEN = """<dedit version="1.0">
  <image id="p" src="poster.png"/>
  <image id="s" src="sticker.png"/>
  <mask id="m" src="ball-mask.png"/>
  <background image="p"/>
  <layer id="moved" image="p" mask="m"/>
    <layer id="sticker" image="s"/>
</dedit>
"""


@pytest.mark.parametrize("schedule", ["fast", "reference"])
@pytest.mark.parametrize("picture, where", [("ball-mask.png", "4:16: "), ("sticker.png", "7:5: layer 'sticker': ")])
def test_pictures_broken_after_loading_point_at_what_reads_them(folder: Path, schedule: str, picture: str, where: str):
    """One helper (designedit.errors.located) places the picture errors the compiler meets: a mask picture
    at its src, a layer's picture read for its transparency at the layer, which it names."""
    shutil.copy(CONFORMANCE / "sticker.png", folder / "sticker.png")
    (folder / "b.dedit").write_text(BROKEN)
    scene = load(folder / "b.dedit")
    (folder / picture).write_bytes(b"not a picture")
    with pytest.raises(SceneError) as info:
        compile_scene(scene, schedule=schedule)
    assert [str(p) for p in info.value.problems] == [
        f"{folder}/b.dedit:{where}{picture} is not a picture this reader can read (PNG, JPEG, WebP, ...)"
    ]


@pytest.mark.parametrize(
    "ops, why",
    [
        ('<resize scale="0.0001"/>' * 2, "its transforms shrink the object to nothing"),  # SIGSEGV in cv2.warpAffine
        ('<resize scale="0.002"/>', "its transforms shrink the object to nothing"),  # the ball is ~120 px: 0.24 px
    ],
)
def test_a_transform_below_one_pixel_is_refused_by_validate_as_by_render(folder: Path, ops: str, why: str):
    """Decided from the folded numbers before anything is warped, so validate and both renderers agree and
    OpenCV never sees a nearly singular matrix (a subprocess: a native crash would show as -11)."""
    import subprocess
    import sys

    (folder / "s.dedit").write_text(SHRINK.format(ops=ops))
    expected = f"s.dedit:6:5: layer 'l': {why}"
    for command in (["validate", "s.dedit"], ["render", "s.dedit", "--renderer", "preview", "-o", "o.png"]):
        done = subprocess.run(
            [sys.executable, "-m", "designedit", *command], cwd=folder, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2, (command, done.returncode, done.stderr)
        assert expected in done.stderr.splitlines()
    assert not (folder / "o.png").exists()


def test_an_object_shrunk_to_a_few_pixels_still_compiles(folder: Path):
    (folder / "s.dedit").write_text(SHRINK.format(ops='<resize scale="0.05"/>'))
    plan = compile_scene(load(folder / "s.dedit"))
    assert plan.masks  # a ~6 px ball is small but drawn
