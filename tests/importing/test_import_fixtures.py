"""Comps saved by real design programs (GIMP's PSDs, Krita's OpenRaster, ImageMagick's PSD) import to the
scenes they mean: each object found with the move that was made (exactly, in whole pixels), the resize
within 2% and the flip; removal and refine masks; new artwork where it was put; hidden layers left out;
blend modes and opacity warned about by layer name. The imported scenes render with the preview, and each
object lands where the comp put it: measured on the rendered layer's pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from designedit import compile, load, render
from designedit.cli import main
from designedit.importing import import_comp, read_comp

from comps import CANVAS, EXPECTED, FILES, alpha_box, clip_box, copy_comp


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Every comp imported once: file name -> (Imported, scene, comp)."""
    out = {}
    for name, _ in FILES:
        folder = tmp_path_factory.mktemp(name.replace(".", "-"))
        comp_path = copy_comp(name, folder)
        result = import_comp(comp_path, folder / "scene.dedit")
        out[name] = (result, load(folder / "scene.dedit"), read_comp(comp_path))
    return out


def _layer(scene, layer_id):
    return next(layer for layer in scene.layers if layer.id == layer_id)


@pytest.mark.parametrize("name,key", FILES)
def test_layers_become_what_the_comp_means(imported, name, key):
    result, scene, _ = imported[name]
    expected = EXPECTED[key]
    ids = [layer.id for layer in scene.layers]
    assert sorted(ids) == sorted([o.id for o in expected.objects] + list(expected.artwork))
    for obj in expected.objects:
        layer = _layer(scene, obj.id)
        assert layer.image == "background" and layer.mask == obj.id and layer.keep is obj.keep
        ops = [t.op for t in layer.transforms]
        resize = [t for t in layer.transforms if t.op == "resize"]
        if obj.scale == 1.0:
            assert not resize
        else:
            assert abs(resize[0].scale / obj.scale - 1) < 0.02, resize[0].scale
        flips = [t.axis for t in layer.transforms if t.op == "flip"]
        assert flips == ([obj.flip] if obj.flip else [])
        assert ops[-1] == "move"  # linear maps about the centroid first, then the move
        if obj.scale == 1.0 and not obj.flip:  # a drag: the move is the drag, exactly
            move = layer.transforms[-1]
            assert (move.dx, move.dy) == (obj.placed[0] - obj.source[0], obj.placed[1] - obj.source[1])
    for art in expected.artwork:
        layer = _layer(scene, art)
        assert layer.image == art and layer.mask is None
    edits = scene.background.edits
    assert [e.op for e in edits] == (["remove"] if expected.remove else [])
    if expected.remove:
        assert (edits[0].refine == "refine") is expected.refine
    for name_absent in expected.absent:
        assert name_absent not in ids
    assert len(result.warnings) == len(expected.warnings)
    for warning, fragment in zip(result.warnings, expected.warnings):
        assert fragment in warning and warning.split(": layer ")[0].endswith(name)


@pytest.mark.parametrize("name,key", FILES)
def test_objects_land_where_the_comp_put_them(imported, name, key, tmp_path):
    """Render the imported scene with the preview; each object's rendered layer covers the comp layer's
    opaque pixels (bounding box within 1 px; a drag or a flip: exactly) and shows the same pixels."""
    result, scene, comp = imported[name]
    rendered = render(scene, tmp_path / "out.png", renderer="preview", progress=False)
    # the renderers translate in whole latent cells: the plan says by how much each move was rounded
    rounding = {layer.id: layer.rounding_px for layer in compile(scene, latent_scale=8).layers}
    by_path = {layer.path: layer for layer in comp.layers}
    for placed in result.placed:
        if placed.what not in ("object", "copy", "artwork"):
            continue
        comp_layer = by_path[placed.path]
        rx, ry = (round(v) for v in rounding[placed.id])
        exact = placed.match is not None and placed.match.found and placed.match.scale == 1.0
        dragged = placed.what == "artwork" or (exact and not placed.match.flip)  # whole pixels, no resampling
        want = clip_box(alpha_box(comp_layer.rgba[..., 3], comp_layer.x - rx, comp_layer.y - ry))
        got_rgba = rendered.layers[f"layer:{placed.id}"]
        got = alpha_box(got_rgba[..., 3])
        tolerance = 0 if exact or placed.what == "artwork" else 1
        assert all(abs(a - b) <= tolerance for a, b in zip(got, want)), (placed.path, got, want)
        # the same pixels: compare where both are opaque, on the canvas
        canvas = np.zeros((CANVAS[1], CANVAS[0], 4), np.uint8)
        x, y, h, w = comp_layer.x, comp_layer.y, *comp_layer.rgba.shape[:2]
        x0, y0, x1, y1 = max(0, x), max(0, y), min(CANVAS[0], x + w), min(CANVAS[1], y + h)
        canvas[y0:y1, x0:x1] = comp_layer.rgba[y0 - y : y1 - y, x0 - x : x1 - x]
        if dragged:  # whole cells of whole pixels: the rounding is whole pixels too
            canvas = np.roll(canvas, (-ry, -rx), axis=(0, 1))
        else:  # moved by the rounding's fraction too, as the renderer placed it
            shift = np.float32([[1, 0, -rounding[placed.id][0]], [0, 1, -rounding[placed.id][1]]])
            canvas = cv2.warpAffine(canvas, shift, CANVAS, flags=cv2.INTER_LINEAR)
        both = (canvas[..., 3] >= 250) & (got_rgba[..., 3] >= 250)
        diff = np.abs(canvas[..., :3][both].astype(int) - got_rgba[..., :3][both].astype(int)).mean()
        # a drag and new artwork: the very pixels; resized or flipped: the renderer resamples (bilinear, about
        # a centroid between pixels) what GIMP resampled its own way (cubic)
        assert diff <= (0.5 if dragged else 16), (placed.path, diff)


def test_removal_paints_over_what_was_painted(imported, tmp_path):
    """full.psd: the small player under the 'remove player' stroke is gone (inpainted), the rest untouched."""
    _, scene, comp = imported["full.psd"]
    render(scene, tmp_path / "out.png", renderer="preview", progress=False)
    out = np.asarray(Image.open(tmp_path / "out.png").convert("RGB")).astype(int)
    background = comp.layers[0].rgba[..., :3].astype(int)
    stroke = next(layer for layer in comp.layers if layer.name == "remove player")
    region = np.zeros(out.shape[:2], bool)
    region[stroke.y : stroke.y + stroke.rgba.shape[0], stroke.x : stroke.x + stroke.rgba.shape[1]] = stroke.rgba[..., 3] >= 128
    assert np.abs(out[region] - background[region]).mean() > 10  # the player was painted over
    far = np.zeros_like(region)
    far[:, 200:] = True
    far[:40] = False  # the title
    assert np.abs(out[far] - background[far]).max() == 0  # far from every edit: the source's own pixels


def test_the_mask_is_the_layer_alpha_where_it_was_found(imported):
    """move.psd: the mask picture is the dragged layer's alpha, at the place the ball was cut from."""
    result, scene, comp = imported["move.psd"]
    mask = np.asarray(Image.open(result.scene_path.parent / scene.masks[0].src))
    layer = comp.layers[1]
    assert mask.shape == (CANVAS[1], CANVAS[0])
    h, w = layer.rgba.shape[:2]
    assert np.array_equal(mask[148 : 148 + h, 156 : 156 + w], layer.rgba[..., 3])
    assert mask.sum() == layer.rgba[..., 3].astype(np.int64).sum()


def test_cli_writes_scene_and_pictures_and_says_what_each_layer_became(tmp_path, capsys):
    comp = copy_comp("full.ora", tmp_path)
    assert main(["import", str(comp), "-o", str(tmp_path / "s.dedit.json"), "--pictures", str(tmp_path / "pics")]) == 0
    out = capsys.readouterr().out
    assert "objects/ball copy: layer ball-copy, found in the background" in out and "copied, moved -60,-8" in out
    assert "sticker: layer sticker, new artwork" in out
    assert (tmp_path / "s.dedit.json").read_text().startswith("{")
    assert sorted(p.name for p in (tmp_path / "pics").iterdir()) == [
        "background.png", "ball-copy-mask.png", "refine.png", "remove.png", "sticker.png", "title.png"]
    assert main(["validate", str(tmp_path / "s.dedit.json")]) == 0


def test_the_example_comp_imports_as_the_readme_says(tmp_path):
    """examples/poster-comp.ora (examples/make_comp.sh: GIMP and Krita): the sun shrunk to 90 px from 129 and
    dragged, the NEW badge painted over, the sticker pasted."""
    comp = Path(__file__).resolve().parents[2] / "examples" / "poster-comp.ora"
    import_comp(comp, tmp_path / "poster-comp.dedit")
    scene = load(tmp_path / "poster-comp.dedit")
    sun = _layer(scene, "sun")
    assert [t.op for t in sun.transforms] == ["resize", "move"] and not sun.keep
    assert abs(sun.transforms[0].scale / (90 / 129) - 1) < 0.02
    assert [layer.id for layer in scene.layers] == ["sun", "sticker"]
    assert [e.op for e in scene.background.edits] == ["remove"]
    render(scene, tmp_path / "out.png", renderer="preview", progress=False)
    out = np.asarray(Image.open(tmp_path / "out.png").convert("RGB")).astype(int)
    badge = out[22:54, 432:488]  # the NEW badge was near-black with white letters; the sky is light
    assert badge.mean() > 120
