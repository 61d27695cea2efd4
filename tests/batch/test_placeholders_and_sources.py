"""The small rules under batches, data-driven: what a placeholder is (format 1.2), how a row fills it,
which --ray values are addresses rather than scenes, and which scene arguments make a batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from designedit.batch.sources import is_batch, looks_like_address
from designedit.io import placeholders


@pytest.mark.parametrize("src, names, filled", [
    ("{poster}", ["poster"], "P.png"),
    ("shots/{sku}-mask.png", ["sku"], "shots/7-mask.png"),
    ("{a}/{b}/{a}.png", ["a", "b", "a"], "x/y/x.png"),
    ("{_x-1}.png", ["_x-1"], "z.png"),
    ("a{1}.png", [], "a{1}.png"),  # a name starts with a letter or _: a brace is a brace
    ("{ poster }.png", [], "{ poster }.png"),
    ("{}{{x}}.png", ["x"], "{}{X}.png"),  # the innermost {x} is a placeholder
    ("plain.png", [], "plain.png"),
])
def test_placeholders_and_filling(src, names, filled):
    assert placeholders.names(src) == names
    values = {"poster": "P.png", "sku": "7", "a": "x", "b": "y", "_x-1": "z", "x": "X"}
    assert placeholders.fill(src, values) == filled


@pytest.mark.parametrize("version, meaning", [((1, 0), False), ((1, 1), False), ((1, 2), True), ((1, 3), True), (None, False)])
def test_only_1_2_and_later_have_placeholders(version, meaning):
    assert placeholders.uses_placeholders(version) is meaning


@pytest.mark.parametrize("text, address", [
    ("auto", True), ("local", True), ("ray://head:10001", True), ("10.0.0.5:6379", True), ("head-node:6379", True),
    ("scene.dedit", False), ("scenes/", False), ("a.dedit.json", False), ("*.dedit", False),
])
def test_ray_addresses_are_told_from_scenes(text, address):
    assert looks_like_address(text) is address


def test_what_makes_a_batch(tmp_path: Path):
    (tmp_path / "a.dedit").write_text("")
    (tmp_path / "[odd].dedit").write_text("")
    assert not is_batch([str(tmp_path / "a.dedit")])
    assert not is_batch([str(tmp_path / "missing.dedit")])  # one scene: render says it is missing, as before
    assert not is_batch([str(tmp_path / "[odd].dedit")])  # a file's own name, though it looks like a pattern
    assert is_batch([str(tmp_path)])
    assert is_batch([str(tmp_path / "*.dedit")])
    assert is_batch([str(tmp_path / "a.dedit")] * 2)
