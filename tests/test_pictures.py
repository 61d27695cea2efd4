"""Pictures are size-checked from their header, before any pixel is decoded."""

import struct
import zlib

import pytest

from designedit.errors import PictureError
from designedit.imaging.pictures import open_picture, picture_size


def _png_claiming(path, width, height):
    """A valid-looking PNG header that claims width x height, with one tiny compressed row."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("size", [(16000, 16000), (12000, 12000), (100000, 100000)])
def test_oversized_pictures_are_refused_by_their_header(tmp_path, size):
    path = _png_claiming(tmp_path / "big.png", *size)
    for read in (picture_size, open_picture):
        with pytest.raises(PictureError, match="limit"):
            read(path)


def test_a_truncated_picture_is_not_decodable(tmp_path):
    path = _png_claiming(tmp_path / "small.png", 64, 64)  # its one row of data is far too short
    assert picture_size(path) == (64, 64)
    with pytest.raises(PictureError, match="small.png cannot be decoded: the picture is cut short or damaged$"):
        open_picture(path)


def test_decoded_pictures_are_shared_read_only_and_follow_rewrites(tmp_path):
    """Recipes loading one file share one decode; a rewrite is seen even when its modification time is put
    back (cp -p, rsync -t), since the change time moves."""
    import os

    from PIL import Image as PILImage

    from designedit.imaging.files import _decoded, file_sha256

    path = tmp_path / "p.png"
    PILImage.new("RGB", (8, 6), (10, 20, 30)).save(path)
    first = _decoded(path)
    assert _decoded(path) is first and not first.flags.writeable and first[0, 0].tolist() == [10, 20, 30]
    sha, st = file_sha256(path), path.stat()
    PILImage.new("RGB", (8, 6), (200, 20, 30)).save(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert _decoded(path)[0, 0].tolist() == [200, 20, 30] and file_sha256(path) != sha


# ---------------------------------------------------------------- pictures as viewers show them

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from designedit import masks as M  # noqa: E402
from designedit.cli import main  # noqa: E402
from designedit.io import load  # noqa: E402
from designedit.imaging.pictures import load_mask_values  # noqa: E402

from cli_fixtures import no_model  # noqa: E402,F401 (fixture)


def _render(folder, background: str, body: str = "") -> np.ndarray:
    """Render a scene over `background` with the preview renderer through the command line; the pixels."""
    doc = folder / "scene.dedit"
    doc.write_text(f'<dedit version="1.0"><image id="bg" src="{background}"/>{body}<background image="bg"/></dedit>')
    out = folder / "out.png"
    assert main(["render", str(doc), "--renderer", "preview", "-o", str(out)]) == 0
    with Image.open(out) as im:
        return np.asarray(im.convert("RGB"))


def _quarters(dtype, white) -> np.ndarray:
    """48x64, a quarter of the way to white on the left half, three quarters on the right."""
    values = np.empty((48, 64), np.float64)
    values[:, :32], values[:, 32:] = 0.25 * white, 0.75 * white
    return values.astype(dtype)


@pytest.mark.parametrize(
    "name, values",
    [
        ("deep.png", _quarters(np.uint16, 65535)),  # 16-bit greyscale PNG (Pillow mode I;16): was all white
        ("deep.tif", _quarters(np.float32, 1.0)),  # float TIFF (mode F), 0..1: was all black
        ("deep32.tif", _quarters(np.int32, 2**31 - 1)),  # signed 32-bit TIFF (mode I): was all white
    ],
)
def test_deep_pictures_render_scaled_to_eight_bits(tmp_path, name, values):
    Image.fromarray(values).save(tmp_path / name)
    out = _render(tmp_path, name)
    assert out.shape == (48, 64, 3)
    assert np.abs(out[:, :32].astype(int) - 64).max() <= 1 and np.abs(out[:, 32:].astype(int) - 191).max() <= 1


def _oriented(path, upright: np.ndarray, orientation: int) -> None:
    """Save `upright` stored turned so that a viewer honouring EXIF `orientation` shows it upright."""
    stored = {1: upright, 6: np.rot90(upright, 1), 8: np.rot90(upright, -1), 3: np.rot90(upright, 2)}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(np.ascontiguousarray(stored)).save(path, exif=exif, **({"quality": 95} if path.suffix == ".jpg" else {}))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])  # Pillow turns TIFFs itself: not twice
@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_exif_orientation_turns_a_picture_upright(tmp_path, suffix, orientation):
    upright = np.zeros((48, 64, 3), np.uint8)
    upright[4:20, 40:60] = (255, 0, 0)  # a red block near the top-right corner as a viewer shows the photo
    _oriented(tmp_path / f"photo{suffix}", upright, orientation)
    assert picture_size(tmp_path / f"photo{suffix}") == (64, 48)
    out = _render(tmp_path, f"photo{suffix}")
    assert out.shape == (48, 64, 3)
    red = (out[..., 0] > 128) & (out[..., 1] < 100)
    ys, xs = np.nonzero(red)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (4, 19, 40, 59)


def test_a_faint_sixteen_bit_mask_is_faint(tmp_path):
    """0.3% grey in a 16-bit mask is 1 of 255 (it was clipped to 197 of 255, above one half: selected)."""
    values = np.zeros((48, 64), np.uint16)
    values[:, :32] = 197  # 0.3% of 65535
    values[10:20, 40:50] = 65535
    Image.fromarray(values).save(tmp_path / "mask16.png")
    Image.new("RGB", (64, 48)).save(tmp_path / "bg.png")
    assert set(np.unique(load_mask_values(tmp_path / "mask16.png"))) == {0, 1, 255}
    doc = tmp_path / "scene.dedit"
    doc.write_text('<dedit version="1.0"><image id="bg" src="bg.png"/><mask id="m" src="mask16.png"/>'
                   '<background image="bg"><remove mask="m"/></background></dedit>')
    selected = M.MaskResolver(load(doc), 64, 48)("m") >= 128
    assert np.count_nonzero(selected) == 100 and selected[10:20, 40:50].all()


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_turns_a_mask_picture_upright(tmp_path, orientation):
    upright = np.zeros((48, 64), np.uint8)
    upright[5:15, 30:60] = 255
    _oriented(tmp_path / "mask.png", upright, orientation)
    Image.new("RGB", (64, 48)).save(tmp_path / "bg.png")
    doc = tmp_path / "scene.dedit"
    doc.write_text('<dedit version="1.0"><image id="bg" src="bg.png"/><mask id="m" src="mask.png"/>'
                   '<background image="bg"><remove mask="m"/></background></dedit>')
    assert np.array_equal(M.MaskResolver(load(doc), 64, 48)("m"), upright)
