"""Atomic writes: whole files or none, with ordinary permissions."""

import os
import stat

import pytest

from designedit.atomic import atomic_write


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
