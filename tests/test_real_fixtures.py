"""The project on real photos and design pictures with hand-made masks (the DesignEdit examples).

The pictures live in ../shared/fixtures/designedit-examples (read-only): each test copies the ones it
uses into its tmp folder and writes its `.dedit` scene (XML or JSON) beside them. Every check is
measured on pixels or plan masks against values the test computes itself from the fixture files
(mask thresholds, centroids, shifted / shrunk / mirrored source pixels).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import designedit
from designedit.cli import main
from designedit.imaging.geometry import zoom_rect
from designedit.plan import Plan
from shared_paths import FIXTURES

# ---------------------------------------------------------------- helpers


def copy_in(tmp_path: Path, rel: str, name: str | None = None) -> Path:
    """Copy a fixture picture into the test's folder (the shared folder is read-only)."""
    src = FIXTURES / rel
    dst = tmp_path / (name or src.name)
    shutil.copyfile(src, dst)
    return dst


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def luminance(path: Path) -> np.ndarray:
    """ITU-R 601 luminance in float, computed here (not by Pillow's integer conversion)."""
    with Image.open(path) as im:
        if im.mode == "L":
            return np.asarray(im, dtype=np.float64)
        a = np.asarray(im.convert("RGB"), dtype=np.float64)
    return a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114


def selected(path: Path) -> np.ndarray:
    """The mask picture thresholded at one half, as the format says (bool)."""
    return luminance(path) >= 127.5


def centroid(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    assert len(xs), "empty mask"
    return float(xs.mean()), float(ys.mean())


def components(mask: np.ndarray) -> int:
    return cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0] - 1


def plan_of(scene_path: Path, schedule: str, capsys) -> Plan:
    """`dedit plan FILE --json`, read back."""
    capsys.readouterr()
    assert main(["plan", str(scene_path), "--schedule", schedule, "--json"]) == 0
    return Plan.from_json(capsys.readouterr().out)


def preview(scene_path: Path, out: Path):
    result = designedit.render(scene_path, renderer="preview", output=out, announce=None)
    written = rgb(out)
    assert np.array_equal(written, result.image)
    return result, written


def check_fast_render_size(plan: Plan, width: int, height: int) -> None:
    """Fast: aspect kept (within one 64-px unit), about one megapixel, sides multiples of 64."""
    rw, rh = plan.render.width, plan.render.height
    assert (plan.canvas.width, plan.canvas.height) == (width, height)
    assert rw % 64 == 0 and rh % 64 == 0
    assert abs(rw - rh * width / height) <= 64 and abs(rh - rw * height / width) <= 64
    assert 0.85 <= rw * rh / 1024**2 <= 1.15
    assert (plan.latent.width, plan.latent.height) == (rw // plan.latent_scale, rh // plan.latent_scale)


# ---------------------------------------------------------------- 1. remove/03_ball (320x512)

BALL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="1.0">
  <prompt>christmas baubles with lettering</prompt>
  <image id="photo" src="0.jpg"/>
  <mask id="ball" src="mask1.jpg"/>
  <background image="photo">
    <remove mask="ball"/>
  </background>
  <output path="out/removed.png"/>
</dedit>
"""

BALL_JSON = json.dumps(
    {
        "dedit": "1.0",
        "prompt": "christmas baubles with lettering",
        "images": [{"id": "photo", "src": "0.jpg"}],
        "masks": [{"id": "ball", "src": "mask1.jpg"}],
        "background": {"image": "photo", "edits": [{"op": "remove", "mask": "ball"}]},
        "output": {"path": "out/removed.png"},
    },
    indent=2,
)


@pytest.fixture()
def baubles(tmp_path):
    for name in ("0.jpg", "mask1.jpg"):
        copy_in(tmp_path, f"remove/03_ball/{name}")
    return {"xml": write(tmp_path, "remove.dedit", BALL_XML), "json": write(tmp_path, "remove.dedit.json", BALL_JSON)}


def test_remove_ball_scene_forms_validate_and_agree(baubles, capsys):
    assert main(["validate", str(baubles["xml"]), str(baubles["json"])]) == 0
    from_xml, from_json = designedit.load(baubles["xml"]), designedit.load(baubles["json"])
    assert designedit.dump(from_xml, "json") == designedit.dump(from_json, "json")
    fast_x, fast_j = designedit.compile(from_xml), designedit.compile(from_json)
    assert np.array_equal(fast_x.masks["remove@canvas"].data, fast_j.masks["remove@canvas"].data)


@pytest.mark.parametrize("form", ["xml", "json"])
def test_remove_ball_compiles_and_previews_on_a_portrait_photo(baubles, form, tmp_path):
    scene = designedit.load(baubles[form])
    fast = designedit.compile(scene, schedule="fast")
    check_fast_render_size(fast, 320, 512)
    assert fast.render.height > fast.render.width  # portrait stays portrait
    reference = designedit.compile(scene, schedule="reference")
    assert (reference.render.width, reference.render.height) == (1024, 1024)
    assert (reference.canvas.width, reference.canvas.height) == (320, 512)

    ball = selected(tmp_path / "mask1.jpg")
    remove = fast.masks["remove@canvas"].data
    edit = fast.masks["edit@canvas"].data
    assert remove.shape == edit.shape == (512, 320)
    assert (remove[ball] >= 128).all() and (edit[ball] == 255).all()
    # the removal dilation (20 px at 1024, so 10 px wide on this 512 px canvas) adds at most 6 px;
    # the mask's JPEG specks further out stay in the photo
    near = cv2.dilate(ball.astype(np.uint8), np.ones((13, 13), np.uint8)) > 0
    specks = (luminance(tmp_path / "mask1.jpg") > 0) & ~near
    assert specks.sum() > 20 and not (remove >= 128)[~near].any()

    _, out = preview(baubles[form], tmp_path / f"out-{form}.png")
    assert out.shape == (512, 320, 3)
    source = rgb(tmp_path / "0.jpg")
    keep = edit == 0
    assert keep.mean() > 0.5  # most of the photo is outside the edit: the check below has teeth
    assert np.array_equal(out[keep], source[keep])  # paste-back: untouched pixels are the source's
    changed = (out != source).any(axis=-1)
    assert changed[ball].mean() > 0.97  # the bauble is gone: nearly every pixel of it was repainted
    assert np.abs(out.astype(int) - source)[ball].mean() > 15


# ---------------------------------------------------------------- 2. masks from JPEG pictures

LAYER_MASK_SCENE = """<dedit version="1.0">
  <image id="photo" src="0.jpg"/>
  <mask id="object" src="{mask}"/>
  <background image="photo"/>
  <layer id="object" image="photo" mask="object" keep="true"/>
</dedit>
"""


def rasterised(tmp_path: Path, mask_name: str) -> np.ndarray:
    """The mask as the compiler rasterises it (`layer:<id>@canvas` of an untransformed layer)."""
    scene = write(tmp_path, f"mask-{mask_name}.dedit", LAYER_MASK_SCENE.format(mask=mask_name))
    plan = designedit.compile(designedit.load(scene))
    return plan.masks["layer:object@canvas"].data


def test_noisy_gray_jpeg_mask_is_thresholded_at_one_half(tmp_path):
    copy_in(tmp_path, "moving/01_ball/0.jpg")
    mask_path = copy_in(tmp_path, "moving/01_ball/mask0.jpg")
    lum = luminance(mask_path)
    noisy = ((lum > 0) & (lum < 255)).sum()
    assert noisy > 1000  # the fixture really carries JPEG noise

    got = rasterised(tmp_path, "mask0.jpg")
    assert set(np.unique(got)) <= {0, 255}
    ties = np.abs(lum - 128) < 1  # Pillow's integer conversion may round these either way
    assert ties.mean() < 0.01
    assert np.array_equal((got >= 128)[~ties], (lum >= 127.5)[~ties])
    assert abs(int((got >= 128).sum()) - int((lum >= 127.5).sum())) <= int(ties.sum())
    # noise near black does not add stray pixels: one object, where a 1/255 threshold finds dozens of specks
    assert components(got >= 128) == 1
    assert components(lum >= 1) > 20
    assert (lum >= 1).sum() > (got >= 128).sum() + 1000


def colour_mask_jpeg(gray_mask: Path, out: Path) -> None:
    """A real mask re-encoded as an RGB JPEG in two colours that tell luminance from other readings:
    the object (0, 255, 120) has luminance 163 (selected) but a channel mean of 125; the background
    (100, 60, 255) has luminance 94 (not selected) but a channel mean of 138 and a blue channel of 255.
    The luminances sit about 128 evenly, so the mask's own half-way edge stays where it was."""
    m = np.asarray(Image.open(gray_mask).convert("L"), dtype=np.float64)[..., None] / 255.0
    obj, bg = np.array([0, 255, 120], float), np.array([100, 60, 255], float)
    pixels = np.clip(bg + (obj - bg) * m + 0.5, 0, 255).astype(np.uint8)
    Image.fromarray(pixels, "RGB").save(out, quality=85)


def test_rgb_jpeg_mask_selects_by_luminance(tmp_path):
    copy_in(tmp_path, "moving/01_ball/0.jpg")
    gray = copy_in(tmp_path, "moving/01_ball/mask0.jpg")
    colour = tmp_path / "mask-rgb.jpg"
    colour_mask_jpeg(gray, colour)
    with Image.open(colour) as im:
        assert im.mode == "RGB"

    lum = luminance(colour)
    got = rasterised(tmp_path, "mask-rgb.jpg")
    ties = np.abs(lum - 128) < 1
    assert ties.mean() < 0.01
    assert np.array_equal((got >= 128)[~ties], (lum >= 127.5)[~ties])
    original = selected(gray)
    near = cv2.dilate(original.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    # luminance, not the mean of the channels (which would select the background) nor any channel
    # (which would select everything)
    pixels = rgb(colour).astype(np.float64)
    assert (pixels.max(axis=-1) >= 128).all()
    assert (pixels.mean(axis=-1) >= 128)[~near].mean() > 0.95
    # the same object as the gray original, and no specks from the colour JPEG's noise
    assert abs(int((got >= 128).sum()) - int(original.sum())) < 0.01 * original.sum()
    assert components(got >= 128) == 1
    assert not (got >= 128)[~near].any()


# ---------------------------------------------------------------- 3. moving/01_ball (512x512): a move


def move_scene(tmp_path: Path) -> Path:
    for name in ("0.jpg", "mask0.jpg"):
        copy_in(tmp_path, f"moving/01_ball/{name}")
    doc = {
        "dedit": "1.0",
        "prompt": "a boy kicking a football in a stadium",
        "images": [{"id": "pitch", "src": "0.jpg"}],
        "masks": [{"id": "boy", "src": "mask0.jpg"}],
        "background": {"image": "pitch"},
        # 512 px canvas rendered at 1024: one latent cell is 4 canvas px, so -91 and 26 do not fit
        "layers": [{"id": "boy", "image": "pitch", "mask": "boy", "transforms": [{"op": "move", "dx": -91, "dy": 26}]}],
        "output": {"path": "out/moved.png"},
    }
    return write(tmp_path, "move.dedit.json", json.dumps(doc, indent=2))


@pytest.mark.parametrize(
    "schedule, applied, rounding",
    [
        ("fast", (-92.0, 28.0), (1.0, -2.0)),  # to the nearest cell: -22.75 -> -23, 6.5 -> 7
        ("reference", (-88.0, 24.0), (-3.0, 2.0)),  # toward zero (method 12): -22.75 -> -22, 6.5 -> 6
    ],
)
def test_move_rounding_is_reported_in_the_plan(tmp_path, capsys, schedule, applied, rounding):
    plan = plan_of(move_scene(tmp_path), schedule, capsys)
    (layer,) = plan.layers
    cell = plan.latent_scale * plan.canvas.width / plan.render.width
    assert cell == 4
    assert (layer.dx_px, layer.dy_px) == (-91.0, 26.0)
    assert (layer.dx * cell, layer.dy * cell) == applied == layer.applied_px
    assert layer.rounding_px == rounding
    assert any("rounding" in n and f"({rounding[0]:.2f}, {rounding[1]:.2f})" in n for n in plan.notes)
    assert main(["plan", str(tmp_path / "move.dedit.json"), "--schedule", schedule]) == 0
    assert "rounding" in capsys.readouterr().out


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_moved_object_lands_where_the_plan_puts_it(tmp_path, capsys, schedule):
    scene = move_scene(tmp_path)
    plan = plan_of(scene, schedule, capsys)
    out_path, layers = tmp_path / "moved.png", tmp_path / "layers"
    argv = ["render", str(scene), "--renderer", "preview", "--schedule", schedule, "-o", str(out_path), "--layers", str(layers)]
    assert main(argv) == 0
    out = rgb(out_path)
    assert out.shape == (512, 512, 3)
    background = rgb(layers / "background.png")  # the inpainted background under the layer

    boy = selected(tmp_path / "mask0.jpg")
    cx, cy = centroid(boy)
    ax, ay = plan.layers[0].applied_px
    # where the picture differs from the inpainted background is the pasted boy; his hard-edged mask
    # moves by whole pixels, so the centroid lands within a fraction of a pixel (the requested move
    # is 1 to 3 px away from the applied one: this tells them apart)
    pasted = (out != background).any(axis=-1)
    mx, my = centroid(pasted)
    assert abs(mx - (cx + ax)) <= 0.5 and abs(my - (cy + ay)) <= 0.5
    assert abs(pasted.sum() - boy.sum()) < 0.05 * boy.sum()
    # and the spot he left is repainted, not a copy of him
    source = rgb(tmp_path / "0.jpg")
    left = boy & ~np.roll(np.roll(boy, int(ay), axis=0), int(ax), axis=1)
    assert (out != source).any(axis=-1)[left].mean() > 0.95


# ---------------------------------------------------------------- 4. layer/02_baby: resize + flip + copy

BABY_XML = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="1.0">
  <prompt>two babies in unicorn hoodies sitting on a bed</prompt>
  <image id="room" src="00.jpg"/>
  <mask id="right" src="mask1.jpg"/>
  <mask id="left" src="mask2.jpg"/>
  <mask id="title">
    <rect x="260" y="100" width="520" height="120"/>
  </mask>
  <background image="room"/>
  <layer id="small" image="room" mask="right">
    <resize scale="0.8"/>
  </layer>
  <layer id="mirror" image="room" mask="left">
    <flip axis="horizontal"/>
  </layer>
  <layer id="title" image="room" mask="title" keep="true">
    <move dx="0" dy="-96"/>
  </layer>
</dedit>
"""


@pytest.fixture()
def babies(tmp_path):
    for name in ("00.jpg", "mask1.jpg", "mask2.jpg"):
        copy_in(tmp_path, f"layer/02_baby/{name}")
    return write(tmp_path, "babies.dedit", BABY_XML)


def test_cut_layers_join_the_removal_but_the_kept_copy_does_not(babies, tmp_path):
    plan = designedit.compile(designedit.load(babies))
    right, left = selected(tmp_path / "mask1.jpg"), selected(tmp_path / "mask2.jpg")
    remove = plan.masks["remove@canvas"].data >= 128
    assert remove[right].all() and remove[left].all()
    assert not remove[100:220, 260:780].any()  # the title stays where it is: keep="true" copies
    # the same at latent resolution (1024 px canvas, 1024 render: one cell is 8 px)
    assert plan.render.width == 1024 and plan.latent_scale == 8
    lat = plan.masks["remove@latent"].data
    assert not lat[100 // 8 : 220 // 8, 260 // 8 : 780 // 8].any()
    for cut in (right, left):
        ys, xs = np.nonzero(cut)
        assert lat[ys // 8, xs // 8].all()
    # the resized layer's mask is 0.8^2 of the object; the mirrored one keeps its area
    small = plan.masks["layer:small@canvas"].data >= 128
    mirror = plan.masks["layer:mirror@canvas"].data >= 128
    assert abs(small.sum() / right.sum() - 0.64) < 0.02
    assert abs(mirror.sum() / left.sum() - 1) < 0.02


def test_flipped_layer_is_mirrored_and_the_copy_is_exact(babies, tmp_path):
    _, out = preview(babies, tmp_path / "babies.png")
    assert out.shape == (1024, 1024, 3)
    source = rgb(tmp_path / "00.jpg").astype(np.int32)
    left = selected(tmp_path / "mask2.jpg")
    cx, _ = centroid(left)
    # a patch right of the axis, inside the object before and after the flip
    y0, y1, x0, x1 = 640, 720, 360, 420
    mirrored_x0 = int(round(2 * cx - (x1 - 1)))
    assert left[y0:y1, x0:x1].all() and left[y0:y1, mirrored_x0 : mirrored_x0 + (x1 - x0)].all()
    patch = out[y0:y1, x0:x1].astype(np.int32)
    mirrored = source[y0:y1, mirrored_x0 : mirrored_x0 + (x1 - x0)][:, ::-1]
    straight = source[y0:y1, x0:x1]
    d_mirror = np.abs(patch - mirrored).mean()
    d_straight = np.abs(patch - straight).mean()
    assert d_mirror < 8 and d_mirror < d_straight / 3
    # the kept copy: the title moved up by 96 px (whole cells), pixel for pixel inside the rim where the preview
    # mattes out what matches the picture around the rectangle (16 px at 1024: matte.py)
    copy, title = out[100 - 96 : 220 - 96, 260:780], source[100:220, 260:780]
    assert np.array_equal(copy[16:-16, 16:-16], title[16:-16, 16:-16])
    assert np.array_equal(out[150:220, 260:780], source[150:220, 260:780])  # the original stays too


# ---------------------------------------------------------------- 5. remove/01_moto (1280x1280)

MOTO_XML = """<dedit version="1.0">
  <image id="photo" src="0.jpg"/>
  <mask id="rider" src="mask0.jpg"/>
  <mask id="moto" src="mask1.jpg"/>
  <background image="photo">
    <remove mask="moto"/>
  </background>
</dedit>
"""


def test_large_square_photo_renders_at_its_own_size(tmp_path):
    for name in ("0.jpg", "mask0.jpg", "mask1.jpg"):
        copy_in(tmp_path, f"remove/01_moto/{name}")
    path = write(tmp_path, "moto.dedit", MOTO_XML)
    scene = designedit.load(path)
    for schedule in ("fast", "reference"):
        plan = designedit.compile(scene, schedule=schedule)
        assert (plan.canvas.width, plan.canvas.height) == (1280, 1280)
        assert (plan.render.width, plan.render.height) == (1024, 1024)
        assert (plan.latent.width, plan.latent.height) == (128, 128)
    plan = designedit.compile(scene)
    moto = selected(tmp_path / "mask1.jpg")
    edit = plan.masks["edit@canvas"].data
    assert (plan.masks["remove@canvas"].data[moto] >= 128).all()

    _, out = preview(path, tmp_path / "moto.png")
    assert out.shape == (1280, 1280, 3)
    source = rgb(tmp_path / "0.jpg")
    keep = edit == 0
    assert keep.mean() > 0.5
    assert np.array_equal(out[keep], source[keep])
    assert (out != source).any(axis=-1)[moto].mean() > 0.95


# ---------------------------------------------------------------- 6. pan and zoom-out


PAN_XML = """<dedit version="1.0">
  <image id="photo" src="{src}"/>
  <background image="photo">
    <pan dx="{dx}" dy="{dy}"/>
  </background>
</dedit>
"""


@pytest.mark.parametrize(
    "src, dx, dy, shift",
    [
        ("03.jpg", "-12.5%", "0", (-80, 0)),  # 640x1024: content to the left, a strip opens on the right
        ("06.jpg", "0", "64", (0, 64)),  # 640x1024: content down, a strip opens at the top
    ],
)
def test_pan_fills_the_uncovered_strip_and_keeps_the_shifted_rest(tmp_path, src, dx, dy, shift):
    picture = copy_in(tmp_path, f"pan/{src}")
    path = write(tmp_path, "pan.dedit", PAN_XML.format(src=src, dx=dx, dy=dy))
    original = rgb(picture)
    h, w = original.shape[:2]
    assert (w, h) == (640, 1024)
    plan = designedit.compile(designedit.load(path))
    check_fast_render_size(plan, w, h)
    assert any(f"pan by {shift}" in n for n in plan.notes)

    sx, sy = shift
    strip = np.zeros((h, w), bool)
    if sx < 0:
        strip[:, w + sx :] = True
    if sy > 0:
        strip[:sy, :] = True
    assert (plan.masks["remove@canvas"].data[strip] >= 128).all()
    assert (plan.masks["remove@latent"].data > 0).any()

    _, out = preview(path, tmp_path / "pan.png")
    assert out.shape == (h, w, 3)
    shifted = np.zeros_like(original)
    shifted[max(0, sy) : h + min(0, sy), max(0, sx) : w + min(0, sx)] = original[
        max(0, -sy) : h - max(0, sy), max(0, -sx) : w - max(0, sx)
    ]
    keep = plan.masks["edit@canvas"].data == 0
    assert not keep[strip].any()
    assert keep.mean() > 0.7
    assert np.array_equal(out[keep], shifted[keep])
    assert not np.array_equal(out[keep], original[keep])  # it really moved


ZOOM_XML = """<dedit version="1.0">
  <image id="photo" src="02.jpg"/>
  <background image="photo">
    <zoom-out factor="1.25"/>
  </background>
</dedit>
"""


def test_zoom_out_fills_the_border_and_keeps_the_shrunk_picture(tmp_path):
    picture = copy_in(tmp_path, "zoom/02.jpg")
    path = write(tmp_path, "zoom.dedit", ZOOM_XML)
    original = rgb(picture)
    h, w = original.shape[:2]
    plan = designedit.compile(designedit.load(path))
    check_fast_render_size(plan, w, h)
    x0, y0, zw, zh = zoom_rect(w, h, 1.25)
    assert (zw, zh) == (819, 819) and (x0, y0) == (102, 102)  # 1024 / 1.25, centred
    border = np.ones((h, w), bool)
    border[y0 : y0 + zh, x0 : x0 + zw] = False
    assert (plan.masks["remove@canvas"].data[border] >= 128).all()

    _, out = preview(path, tmp_path / "zoom.png")
    assert out.shape == (h, w, 3)
    # the picture shrunk about the centre; the format names no filter, so compare with Pillow's
    # (antialiased) bilinear shrink within a few levels
    shrunk = np.asarray(Image.fromarray(original).resize((zw, zh), Image.BILINEAR), dtype=np.int32)
    keep = plan.masks["edit@canvas"].data == 0
    assert not keep[border].any() and keep.mean() > 0.4
    inner = keep[y0 : y0 + zh, x0 : x0 + zw]
    diff = np.abs(out[y0 : y0 + zh, x0 : x0 + zw].astype(np.int32) - shrunk)[inner]
    assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 3
    unshrunk = np.abs(out[y0 : y0 + zh, x0 : x0 + zw].astype(np.int32) - original[y0 : y0 + zh, x0 : x0 + zw])[inner]
    assert unshrunk.mean() > 5 * diff.mean() + 5  # the check tells shrunk from not shrunk


# ---------------------------------------------------------------- 7. layer/03_text: two images


TEXT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="1.0">
  <prompt>a plush alien holding a sign with lettering</prompt>
  <image id="alien" src="00.jpg"/>
  <image id="bauble" src="01.jpg"/>
  <image id="bauble-again" src="01-copy.jpg"/>
  <mask id="name" src="mask0.jpg"/>
  <mask id="happy" src="mask1.jpg"/>
  <background image="alien">
    <remove mask="name"/>
  </background>
  <layer id="happy" image="bauble" mask="happy">
    <resize scale="0.5"/>
    <move dx="80" dy="77"/>
  </layer>
  <layer id="happy-top" image="bauble" mask="happy">
    <resize scale="0.5"/>
    <move dx="80" dy="-300"/>
  </layer>
  <layer id="happy-again" image="bauble-again" mask="happy">
    <resize scale="0.5"/>
    <move dx="-250" dy="250"/>
  </layer>
</dedit>
"""


@pytest.fixture()
def lettering(tmp_path):
    for name in ("00.jpg", "01.jpg", "mask0.jpg", "mask1.jpg"):
        copy_in(tmp_path, f"layer/03_text/{name}")
    copy_in(tmp_path, "layer/03_text/01.jpg", "01-copy.jpg")  # the same bytes under another name and id
    return write(tmp_path, "lettering.dedit", TEXT_XML)


def test_cross_image_composition_inverts_each_distinct_image_once(lettering, tmp_path, capsys):
    fast = plan_of(lettering, "fast", capsys)
    reference = plan_of(lettering, "reference", capsys)
    assert (fast.canvas.width, fast.canvas.height) == (900, 900)
    # fast: the background and the one (resized) bauble picture the three layers share
    assert len(fast.images) == 2
    assert len({i.key for i in fast.images}) == len(fast.images)
    assert fast.cost.inversion == fast.steps * 2
    assert len({l.image for l in fast.layers}) == 1 and fast.layers[0].image != fast.background
    # the reference inverts the background and every layer separately (the authors' cost)
    assert len(reference.images) == 1 + 3 and reference.cost.inversion == reference.steps * 4
    assert len({i.key for i in reference.images}) == 2

    # layers from another picture cut nothing: the removal is the scene's `remove` alone
    alone = write(tmp_path, "alone.dedit", TEXT_XML.split("  <layer")[0] + "</dedit>\n")
    alone_plan = designedit.compile(designedit.load(alone))
    assert np.array_equal(fast.masks["remove@canvas"].data, alone_plan.masks["remove@canvas"].data)


def test_cross_image_composition_previews(lettering, tmp_path):
    result, out = preview(lettering, tmp_path / "lettering.png")
    assert out.shape == (900, 900, 3)
    source = rgb(tmp_path / "00.jpg")
    name = selected(tmp_path / "mask0.jpg")
    assert (out != source).any(axis=-1)[name].mean() > 0.9  # the old lettering is replaced
    # the top copy lands on untouched background: it brings the bauble picture's white letters there
    happy = selected(tmp_path / "mask1.jpg")
    cx, cy = centroid(happy)
    top = (int(round(cy)) - 300, int(round(cx)) + 80)
    window = (slice(top[0] - 60, top[0] + 60), slice(top[1] - 120, top[1] + 120))
    letters = result.layers["layer:happy-top"][..., 3][window] >= 128
    assert letters.mean() > 0.1
    assert (out[window][letters] != source[window][letters]).any(axis=-1).mean() > 0.9
