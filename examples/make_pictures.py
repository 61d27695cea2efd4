"""Draw the example pictures: small synthetic design posters with shapes and text, and their masks.

    python examples/make_pictures.py [--out DIR]     # default: examples/pictures

The geometry is fixed (and written below) so the example scenes can name
regions by shape as well as by mask picture. The pictures are committed, so
this only needs running to change them.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = (512, 384)
SUN = (150, 190, 62)  # centre x, centre y, radius
BOX = (310, 140, 430, 260)  # left, top, right, bottom
TITLE = (40, 300, 472, 350)  # the title's text box
BADGE = (430, 20, 490, 56)  # a small "NEW" badge, top right


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the bitmap font, which has one size
        return ImageFont.load_default()


def poster() -> Image.Image:
    """A summer-sale poster: sky gradient, sun, gift box, title and badge."""
    im = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(im)
    for y in range(SIZE[1]):
        t = y / (SIZE[1] - 1)
        draw.line([(0, y), (SIZE[0], y)], fill=(int(90 + 120 * t), int(160 + 60 * t), int(230 - 40 * t)))
    draw.rectangle([0, 280, SIZE[0], SIZE[1]], fill=(236, 214, 160))  # sand
    cx, cy, r = SUN
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(250, 170, 40))
    draw.rectangle(BOX, fill=(200, 40, 70))
    mid = (BOX[0] + BOX[2]) // 2
    draw.rectangle([mid - 8, BOX[1], mid + 8, BOX[3]], fill=(250, 220, 90))  # ribbon
    draw.rectangle([BADGE[0], BADGE[1], BADGE[2], BADGE[3]], fill=(30, 30, 30))
    draw.text((BADGE[0] + 8, BADGE[1] + 8), "NEW", fill=(255, 255, 255), font=_font(18))
    draw.text((TITLE[0] + 8, TITLE[1] + 4), "SUMMER SALE -30%", fill=(60, 40, 20), font=_font(40))
    return im


def backdrop() -> Image.Image:
    """A plain studio backdrop for composition: a soft vertical gradient and a floor line."""
    im = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(im)
    for y in range(SIZE[1]):
        t = y / (SIZE[1] - 1)
        draw.line([(0, y), (SIZE[0], y)], fill=(int(40 + 60 * t), int(60 + 40 * t), int(90 + 50 * t)))
    draw.rectangle([0, 300, SIZE[0], SIZE[1]], fill=(70, 70, 80))
    return im


def sticker() -> Image.Image:
    """A star sticker with transparency (a layer that needs no mask: its alpha is the mask)."""
    im = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    points = []
    for k in range(10):
        radius = 56 if k % 2 == 0 else 24
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((60 + radius * math.cos(angle), 60 + radius * math.sin(angle)))
    draw.polygon(points, fill=(255, 210, 0, 255), outline=(180, 120, 0, 255))
    return im


def mask(shape: str, box: tuple) -> Image.Image:
    """A canvas-size black-and-white mask (white = selected)."""
    im = Image.new("L", SIZE, 0)
    draw = ImageDraw.Draw(im)
    if shape == "ellipse":
        cx, cy, r = box
        draw.ellipse([cx - r - 2, cy - r - 2, cx + r + 2, cy + r + 2], fill=255)
    else:
        draw.rectangle(box, fill=255)
    return im


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "pictures")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pictures = {
        "poster.png": poster(),
        "backdrop.png": backdrop(),
        "sticker.png": sticker(),
        "sun-mask.png": mask("ellipse", SUN),
        "box-mask.png": mask("rect", BOX),
    }
    for name, im in pictures.items():
        im.save(args.out / name, optimize=True)
        print(args.out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
