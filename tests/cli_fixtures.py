"""What the CLI and API tests share: a no-model environment, a small scene on disk, leftover checks.

Import the fixtures into a test module (`from cli_fixtures import no_model, scene`) to use them there."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

import render_fixtures as fx


@pytest.fixture(autouse=True)
def no_model(monkeypatch, tmp_path):
    """No configured model, an empty Hugging Face cache, downloads off, a private inversion cache."""
    monkeypatch.delenv("DEDIT_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-empty"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-empty" / "hub"))
    monkeypatch.setenv("DEDIT_CACHE_DIR", str(tmp_path / "cache"))
    # huggingface_hub reads the variable once, at import: point its constant there too (where it is installed:
    # the core's tests also run without the SDXL extra)
    if importlib.util.find_spec("huggingface_hub") is not None:
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hf-empty" / "hub"))


def scene_json(dx=100, dy=0, output=None) -> str:
    doc = {
        "dedit": "1.0",
        "images": [{"id": "poster", "src": "poster.png"}],
        "masks": [{"id": "ball", "src": "ball-mask.png"}],
        "background": {"image": "poster"},
        "layers": [{"id": "ball", "image": "poster", "mask": "ball", "transforms": [{"op": "move", "dx": dx, "dy": dy}]}],
    }
    if output:
        doc["output"] = {"path": output}
    return json.dumps(doc, indent=1)


@pytest.fixture()
def scene(tmp_path):
    fx.write_poster(tmp_path)
    path = tmp_path / "scene.dedit"
    path.write_text(scene_json())
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.part"))


@pytest.fixture()
def renderer_options(monkeypatch) -> list:
    """Every RenderOptions a renderer is built with, in order: the preview renderer stands in for any name."""
    import designedit.rendering.select as select
    from dedit_preview import PreviewRenderer

    seen: list = []

    class Spy(PreviewRenderer):
        def __init__(self, options):
            super().__init__(options)
            seen.append(options)

    monkeypatch.setattr(select, "load_renderer_class", lambda name: Spy)
    return seen
