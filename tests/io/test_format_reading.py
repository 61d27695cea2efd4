"""How a document is read before its content is judged (issue 12): the encoding is decided from the bytes
and only the decoded text is checked and parsed; only regular files are opened, without blocking; the
version may be any length."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from designedit.cli import main
from designedit.errors import SceneError
from designedit.io import load, load_text

from shared_paths import CONFORMANCE, PRESENT  # noqa: E402

REMOVE = (CONFORMANCE / "remove.dedit").read_text(encoding="utf-8") if PRESENT else "\n"  # the tests that read it are marked shared
NO_DECLARATION = REMOVE.split("\n", 1)[1]  # the conformance document without its `<?xml ...?>` line
GUARD_S = 20  # against a hang, not a speed test


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    for name in ("poster.png", "ball-mask.png"):
        shutil.copyfile(CONFORMANCE / name, tmp_path / name)
    return tmp_path


def problems(raw: bytes | str, base: Path) -> list[str]:
    with pytest.raises(SceneError) as info:
        load_text(raw, "doc", base)
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------ encodings


@pytest.mark.parametrize("bom, codec", [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
@pytest.mark.parametrize("declared", ["", '<?xml version="1.0" encoding="UTF-16"?>\n'])
def test_xml_in_utf16_with_a_byte_order_mark_reads_like_utf8(folder, bom, codec, declared):
    text = declared + NO_DECLARATION.replace("<dedit", "<!-- café -->\n<dedit")
    assert load_text(bom + text.encode(codec), "doc", folder) == load_text(REMOVE, "doc", folder)


def test_a_utf16_document_declaring_another_encoding_is_refused(folder):
    raw = b"\xff\xfe" + REMOVE.encode("utf-16-le")  # says encoding="UTF-8"
    assert problems(raw, folder) == [
        "doc:1:1: the document is UTF-16 (it starts with that byte order mark) but declares encoding 'UTF-8'"]


@pytest.mark.parametrize("codec, what", [("utf-16-le", "UTF-16 (little-endian)"), ("utf-16-be", "UTF-16 (big-endian)"),
                                         ("utf-32-le", "UTF-32 (little-endian)"), ("utf-32-be", "UTF-32 (big-endian)")])
def test_wide_encodings_without_a_byte_order_mark_are_refused_in_one_sentence(folder, codec, what):
    assert problems(NO_DECLARATION.encode(codec), folder) == [
        f"doc: the document looks like {what} without a byte order mark; .dedit documents are UTF-8, or UTF-16 with "
        "a byte order mark for the XML form"]


def test_utf32_with_a_byte_order_mark_is_refused(folder):
    assert problems(NO_DECLARATION.encode("utf-32"), folder) == [
        "doc: the document is UTF-32; .dedit documents are UTF-8, or UTF-16 with a byte order mark for the XML form"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_a_dtd_in_a_wide_encoding_never_reaches_the_parser(folder, codec):
    """The audit's bypass: UTF-16 without a mark passed as "UTF-8", so the DOCTYPE check saw NUL bytes while
    lxml parsed the DTD and its entity replaced the reference."""
    doc = NO_DECLARATION.replace("<dedit", '<!DOCTYPE dedit [<!ENTITY p "poster">]>\n<dedit').replace(
        '<background image="poster"', '<background image="&p;"')
    for raw in (doc.encode(codec), (b"\xff\xfe" + doc.encode("utf-16-le")) if codec == "utf-16-le" else None):
        if raw is None:
            continue
        found = problems(raw, folder)
        assert len(found) == 1 and ("byte order mark" in found[0] or "DOCTYPE declarations are not allowed" in found[0]), found


def test_a_utf16_document_with_a_dtd_and_a_mark_is_refused_at_the_doctype(folder):
    doc = NO_DECLARATION.replace("<dedit", '<!DOCTYPE dedit [<!ENTITY p "poster">]>\n<dedit')
    assert problems(b"\xff\xfe" + doc.encode("utf-16-le"), folder) == [
        "doc:2:1: DOCTYPE declarations are not allowed: .dedit documents take no DTD and no entities (they are "
        "refused for safety)"]


def test_json_stays_utf8(folder):
    text = (CONFORMANCE / "remove.dedit.json").read_text(encoding="utf-8")
    assert problems(b"\xff\xfe" + text.encode("utf-16-le"), folder) == [
        "doc: the document is JSON in UTF-16; JSON documents must be UTF-8"]


def test_a_nul_character_is_refused_where_it_is(folder):
    raw = REMOVE.replace('<background image="poster">', '<background image="po\x00ster">').encode()
    line = REMOVE[: REMOVE.index("<background")].count("\n") + 1
    assert problems(raw, folder) == [f"doc:{line}:24: the document holds a NUL character (U+0000), which .dedit documents do not allow"]


def test_broken_utf16_is_located(folder):
    raw = b"\xff\xfe" + NO_DECLARATION.encode("utf-16-le") + b"\x00\xd8"  # a lone high surrogate at the end
    found = problems(raw, folder)
    assert len(found) == 1 and found[0].endswith("the document is not UTF-16 text (a broken character here)"), found


# ------------------------------------------------------------------ what is opened


def _validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "designedit", "validate", str(path)], capture_output=True, text=True,
                          timeout=GUARD_S)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "scene.dedit"
    os.mkfifo(fifo)
    try:
        done = _validate(fifo)
    except subprocess.TimeoutExpired:  # before: open() waited for a writer forever
        pytest.fail("dedit validate blocked on a FIFO")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"{fifo}: this is a named pipe (FIFO), not a .dedit document\n")


@pytest.mark.parametrize("path, what", [("/dev/null", "a device"), (".", "a folder")])
def test_devices_and_folders_are_refused_in_one_sentence(tmp_path, capsys, path, what):
    assert main(["validate", path]) == 2
    assert capsys.readouterr().err == f"{path}: this is {what}, not a .dedit document\n"


def test_a_file_name_with_a_nul_is_refused_in_one_sentence(tmp_path):
    with pytest.raises(SceneError) as info:
        load(str(tmp_path / "a\x00b.dedit"))  # os.open raises ValueError, not OSError
    assert [str(p) for p in info.value.problems] == [f"{tmp_path}/a\\x00b.dedit: a file name cannot hold a NUL character"]


def test_fmt_compares_with_the_bytes_it_read(folder, capsys):
    doc = folder / "scene.dedit"
    doc.write_text(REMOVE)
    assert main(["fmt", "--check", str(doc)]) == 1
    assert main(["fmt", str(doc)]) == 0 and main(["fmt", "--check", str(doc)]) == 0
    assert load(doc) == load_text(REMOVE, "doc", folder)


# ------------------------------------------------------------------ the version


@pytest.mark.parametrize("major", ["9" * 5000, "1" + "0" * 5000, "0" * 4999 + "1"])
def test_a_version_of_thousands_of_digits_is_one_sentence(folder, capsys, major):
    """Python refuses to turn more than 4300 digits into an int: that was a traceback (exit 1)."""
    doc = folder / "v.dedit"
    doc.write_text(NO_DECLARATION.replace('version="1.0"', f'version="{major}.0"'))
    status = main(["validate", str(doc)])
    err = capsys.readouterr().err
    if major.lstrip("0") == "1":
        assert status == 0, err
        return
    assert status == 2 and err.count("\n") == 1, err
    assert err == f"{doc}:2:8: format version {major[:37]}... is newer than this reader, which reads 1.x; upgrade dedit to read it\n"
