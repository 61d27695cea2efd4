"""The on-disk cache: round trips, corrupt entries as misses, LRU size bound."""

from __future__ import annotations

import os

import numpy as np

import pytest

from designedit.checks.arguments import byte_size
from designedit.errors import ArgumentError
from designedit.rendering.cache import DEFAULT_MAX_BYTES, Cache, cache_key, default_cache_dir


def test_round_trip_and_miss(tmp_path):
    c = Cache(tmp_path)
    k = cache_key("inversion", "abc", 50)
    assert c.get(k) is None
    assert c.put(k, b"hello")
    assert c.get(k) == b"hello" and k in c
    assert (c.hits, c.misses) == (1, 1)
    assert Cache(tmp_path).get(k) == b"hello"  # persists across instances
    assert cache_key("a", 1) != cache_key("a", 2) and cache_key("a", 1) == cache_key("a", 1)


def test_arrays_round_trip(tmp_path):
    c = Cache(tmp_path)
    z = np.random.default_rng(0).standard_normal((51, 4, 8, 8)).astype(np.float16)
    assert c.put_arrays("traj", {"z": z, "t": np.arange(3)})
    got = c.get_arrays("traj")
    assert got["z"].dtype == np.float16 and np.array_equal(got["z"], z) and list(got["t"]) == [0, 1, 2]


def test_truncated_or_corrupt_entries_are_misses_and_are_dropped(tmp_path):
    c = Cache(tmp_path)
    c.put("a", b"x" * 1000)
    c.put("b", b"y" * 1000)
    pa, pb = c.path_for("a"), c.path_for("b")
    pa.write_bytes(pa.read_bytes()[:500])  # partial write
    raw = bytearray(pb.read_bytes())
    raw[-1] ^= 0xFF  # flipped bit
    pb.write_bytes(bytes(raw))
    assert c.get("a") is None and c.get("b") is None
    assert not pa.exists() and not pb.exists()
    c.put("a", b"fresh")
    assert c.get("a") == b"fresh"
    c.path_for("a").write_bytes(b"garbage")
    assert c.get_arrays("a") is None


def test_each_damaged_entry_found_is_one_warning_that_names_it(tmp_path):
    c = Cache(tmp_path)
    for key in "abcd":
        c.put(key, key.encode() * 1000)
    paths = {key: c.path_for(key) for key in "abcd"}
    paths["a"].write_bytes(paths["a"].read_bytes()[:500])  # a write cut short
    raw = bytearray(paths["b"].read_bytes())
    raw[-1] ^= 0xFF
    paths["b"].write_bytes(bytes(raw))
    paths["c"].write_bytes(b"\0" * 64)  # another program's file
    paths["d"].write_bytes(paths["d"].read_bytes()[:20])  # not even a whole header
    assert [c.get(key) for key in "abcd"] == [None] * 4
    why = {"a": "cut short", "b": "its checksum does not match", "c": "not a dedit cache entry", "d": "cut short"}
    assert c.take_discarded() == [f"the cache entry {paths[key]} was damaged ({why[key]}); it was discarded and what "
                                  "it held is computed again" for key in "abcd"]
    assert c.take_discarded() == []  # each said once
    assert c.get("a") is None and c.take_discarded() == []  # a plain miss is no warning


def test_a_cache_folder_that_is_a_file_is_named(tmp_path):
    from designedit.rendering.cache import cache_dir_problem

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert cache_dir_problem(blocker) == f"{blocker} is a file, not a folder"
    assert cache_dir_problem(blocker / "sub" / "deeper") == f"{blocker} is a file, not a folder"
    assert cache_dir_problem(tmp_path / "not-yet" / "made") is None and cache_dir_problem(tmp_path) is None


def test_size_bound_evicts_least_recently_used(tmp_path):
    c = Cache(tmp_path, max_bytes=3 * 1100)
    for i, key in enumerate(["k0", "k1", "k2"]):
        c.put(key, bytes(1000))
        os.utime(c.path_for(key), (1000 + i, 1000 + i))
    assert c.get("k0") is not None  # k0 is now the most recently used
    c.put("k3", bytes(1000))
    assert c.get("k1") is None  # the oldest went
    assert all(c.get(k) is not None for k in ("k0", "k2", "k3"))
    assert c.size_bytes() <= c.max_bytes
    assert not c.put("huge", bytes(4000)) and c.get("huge") is None


def test_no_temporary_files_left_and_unwritable_root_is_harmless(tmp_path):
    c = Cache(tmp_path / "c")
    c.put("k", b"v")
    leftovers = [p for p in (tmp_path / "c").rglob("*") if p.is_file() and p.suffix != ".bin"]
    assert leftovers == []
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    broken = Cache(blocker / "sub")
    assert broken.put("k", b"v") is False and broken.get("k") is None


def test_default_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DEDIT_CACHE_DIR", str(tmp_path / "d"))
    assert default_cache_dir() == tmp_path / "d"
    monkeypatch.delenv("DEDIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x" / "dedit"


@pytest.mark.parametrize("text, size", [("0", 0), ("123456", 123456), ("4G", 4 * 1024**3), ("500M", 500 * 1024**2),
                                        ("2GB", 2 * 10**9), ("1.5 GiB", 3 * 1024**3 // 2), ("64k", 65536), ("10B", 10)])
def test_byte_sizes(text, size):
    assert byte_size(text, "the cache size") == size


@pytest.mark.parametrize("text", ["", "lots", "-1G", "4Q", "G", "nan", "inf", "1e999", "1e308T", "-0.5"])
def test_bad_byte_sizes_are_one_sentence(text):
    with pytest.raises(ArgumentError, match=r"^the cache size must be a size such as 4G, 500M or 2GB, not .*\.$"):
        byte_size(text, "the cache size")


def test_the_bound_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("DEDIT_CACHE_SIZE", raising=False)
    assert Cache(tmp_path).max_bytes == DEFAULT_MAX_BYTES
    monkeypatch.setenv("DEDIT_CACHE_SIZE", "2M")
    assert Cache(tmp_path).max_bytes == 2 * 1024**2
    assert Cache(tmp_path, max_bytes=5).max_bytes == 5  # given wins
    c = Cache(tmp_path / "zero", max_bytes=0)
    assert c.put("k", b"v") is False and c.get("k") is None
    monkeypatch.setenv("DEDIT_CACHE_SIZE", "plenty")
    with pytest.raises(ArgumentError, match="DEDIT_CACHE_SIZE must be a size"):
        Cache(tmp_path)
