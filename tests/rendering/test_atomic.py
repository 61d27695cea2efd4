"""Atomic writes: whole files or none, with ordinary permissions."""

import errno
import os
import stat
from pathlib import Path

import pytest

from designedit.rendering.atomic import atomic_write


def test_new_file_gets_ordinary_permissions_and_existing_keeps_its_own(tmp_path):
    old = os.umask(0o022)
    try:
        fresh = atomic_write(tmp_path / "sub" / "a.png", b"abc")
        assert fresh.read_bytes() == b"abc"
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        kept = tmp_path / "b.dedit"
        kept.write_bytes(b"old")
        kept.chmod(0o600)
        atomic_write(kept, b"new")
        assert kept.read_bytes() == b"new" and stat.S_IMODE(kept.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def _full_disk(fd):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_that_fails_on_a_full_disk_removes_the_folders_it_made(tmp_path, monkeypatch):
    (tmp_path / "kept").mkdir()
    monkeypatch.setattr(os, "fsync", _full_disk)  # the data is flushed, the disk says it is full
    with pytest.raises(OSError):
        atomic_write(tmp_path / "kept" / "new" / "deeper" / "out.png", b"picture")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["kept"]


def test_a_folder_that_another_file_moved_into_is_kept(tmp_path, monkeypatch):
    """Only empty folders go: something written there meanwhile (another writer) keeps its folder."""
    target = tmp_path / "new" / "out.png"

    def full_after_a_neighbour_arrived(fd):
        (tmp_path / "new" / "neighbour.png").write_bytes(b"other")
        _full_disk(fd)

    monkeypatch.setattr(os, "fsync", full_after_a_neighbour_arrived)
    with pytest.raises(OSError):
        atomic_write(target, b"picture")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["neighbour.png"]


def test_a_folder_the_full_disk_refused_leaves_nothing_either(tmp_path, monkeypatch):
    real_mkdir = os.mkdir

    def mkdir(path, mode=0o777, **kwargs):
        if Path(path).name == "b" and Path(path).parent.is_dir():  # `a` is made, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_mkdir(path, mode, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    with pytest.raises(OSError):
        atomic_write(tmp_path / "a" / "b" / "out.png", b"picture")
    assert list(tmp_path.iterdir()) == []
