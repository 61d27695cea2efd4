"""Pictures are size-checked from their header, before any pixel is decoded."""

import struct
import zlib

import pytest

from designedit.pictures import PictureError, open_picture, picture_size


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

    from designedit.images import _decoded, file_sha256

    path = tmp_path / "p.png"
    PILImage.new("RGB", (8, 6), (10, 20, 30)).save(path)
    first = _decoded(path)
    assert _decoded(path) is first and not first.flags.writeable and first[0, 0].tolist() == [10, 20, 30]
    sha, st = file_sha256(path), path.stat()
    PILImage.new("RGB", (8, 6), (200, 20, 30)).save(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert _decoded(path)[0, 0].tolist() == [200, 20, 30] and file_sha256(path) != sha
