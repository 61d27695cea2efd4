"""`--layers`: the PNGs and the OpenRaster stack open as a valid layer stack."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from lxml import etree
from PIL import Image

import render_fixtures as fx
from dedit_preview import PreviewRenderer
from designedit.rendering.ora import write_layers


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_ora_is_a_valid_stack(tmp_path):
    poster = fx.write_poster(tmp_path)
    bg = fx.image("bg", poster)
    masks = {"remove@canvas": fx.ball_mask(grow=6), "edit@canvas": np.full((fx.H, fx.W), 255, np.uint8),
             "layer:ball@canvas": fx.ball_mask()}
    result = PreviewRenderer().render(fx.plan(bg, masks, [(fx.plan_layer("ball", "bg", 120, -30), bg)]))
    written = write_layers(tmp_path / "layers", result.layers, result.image, name="scene")
    names = sorted(p.name for p in written)
    assert names == ["background.png", "layer-ball.png", "scene.ora"]

    # standalone PNGs: RGBA at the canvas size
    for png in ("background.png", "layer-ball.png"):
        with Image.open(tmp_path / "layers" / png) as im:
            assert im.mode == "RGBA" and im.size == (fx.W, fx.H)

    ora = tmp_path / "layers" / "scene.ora"
    raw = ora.read_bytes()
    # mimetype first, stored, readable at byte 30 + len("mimetype") as the spec intends
    assert raw[30:38] == b"mimetype" and raw[38:54] == b"image/openraster"
    with zipfile.ZipFile(ora) as zf:
        infos = zf.infolist()
        assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"image/openraster"
        assert zf.testzip() is None
        root = etree.fromstring(zf.read("stack.xml"))
        assert root.tag == "image" and (int(root.get("w")), int(root.get("h"))) == (fx.W, fx.H)
        layers = root.find("stack").findall("layer")
        assert [l.get("name") for l in layers] == ["ball", "background"]  # topmost first
        for layer in layers:
            pixels = decode(zf.read(layer.get("src")))
            x, y = int(layer.get("x")), int(layer.get("y"))
            assert pixels.shape[2] == 4
            assert 0 <= x and 0 <= y and x + pixels.shape[1] <= fx.W and y + pixels.shape[0] <= fx.H
        ball = layers[0]
        crop = decode(zf.read(ball.get("src")))
        # cropped to the moved ball: (150 + 120 - 60, 200 - 30 - 60), 121 px across
        assert (int(ball.get("x")), int(ball.get("y"))) == (210, 110) and crop.shape[:2] == (121, 121)
        assert np.array_equal(crop, result.layers["layer:ball"][110:231, 210:331])
        bgpix = decode(zf.read(layers[1].get("src")))
        assert bgpix.shape == (fx.H, fx.W, 4)
        merged = decode(zf.read("mergedimage.png"))
        assert merged.shape == (fx.H, fx.W, 4) and np.array_equal(merged[..., :3], result.image)
        thumb = decode(zf.read("Thumbnails/thumbnail.png"))
        assert max(thumb.shape[:2]) == 256 and thumb.shape[1] == 256


def test_empty_layer_stays_valid(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    layers = {"background": np.full((8, 8, 4), 255, np.uint8), "layer:gone": rgba}
    write_layers(tmp_path, layers, np.zeros((8, 8, 3), np.uint8), name="x")
    with zipfile.ZipFile(tmp_path / "x.ora") as zf:
        layer = etree.fromstring(zf.read("stack.xml")).find("stack").find("layer")
        assert layer.get("name") == "gone" and decode(zf.read(layer.get("src"))).shape == (1, 1, 4)
