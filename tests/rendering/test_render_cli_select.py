"""Renderer choice: auto picks SDXL only with a model, explicit sdxl never falls back silently."""

from __future__ import annotations

from pathlib import Path

import pytest

import designedit.rendering.select as select
from dedit_preview import PreviewRenderer
from designedit.errors import DeditError
from designedit.rendering.protocol import RenderOptions


def fake_sdxl():
    class FakeSDXL:
        name = "sdxl"

        def __init__(self, options):
            self.options = options

        @classmethod
        def available(cls, options):
            return bool(options.model), f"model {options.model}"

    return FakeSDXL


def put_model_in_hub_cache(hub: Path, repo_id: str = select.FINDABLE_MODELS[0]) -> None:
    snapshot = hub / f"models--{repo_id.replace('/', '--')}" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").write_text("{}")


@pytest.fixture()
def registry(monkeypatch, tmp_path):
    monkeypatch.delenv("DEDIT_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    table = {"preview": PreviewRenderer}

    def load(name):
        value = table.get(name)
        if value is None:
            raise DeditError(f"no renderer named {name!r} is installed.")
        if isinstance(value, Exception):
            raise value
        return value

    monkeypatch.setattr(select, "load_renderer_class", load)
    return table


def test_auto_without_a_model_uses_the_preview_and_says_why_without_loading_sdxl(registry):
    registry["sdxl"] = AssertionError("auto must not import the SDXL renderer when there is no model")
    choice = select.choose_renderer("auto", RenderOptions())
    assert choice.cls is PreviewRenderer and choice.name == "preview"
    assert choice.line.startswith("renderer: preview (") and "DEDIT_MODEL" in choice.line
    assert "\n" not in choice.line


def test_auto_with_a_model_in_the_hub_cache_uses_sdxl(registry, tmp_path):
    registry["sdxl"] = fake_sdxl()
    (tmp_path / "hub" / "models--stabilityai--stable-diffusion-xl-base-1.0" / "snapshots" / "empty").mkdir(parents=True)
    assert select.choose_renderer("auto", RenderOptions()).name == "preview"  # a snapshot without model_index.json
    put_model_in_hub_cache(tmp_path / "hub")
    options = RenderOptions()
    choice = select.choose_renderer("auto", options)
    assert choice.name == "sdxl" and "found" in choice.reason
    assert options.model == select.FINDABLE_MODELS[0]


def test_auto_with_a_configured_model_uses_sdxl(registry, monkeypatch):
    registry["sdxl"] = fake_sdxl()
    assert select.choose_renderer("auto", RenderOptions(model="/models/x")).name == "sdxl"
    monkeypatch.setenv("DEDIT_MODEL", "/models/from-env")
    options = RenderOptions()
    choice = select.choose_renderer("auto", options)
    assert choice.name == "sdxl" and options.model == "/models/from-env" and "DEDIT_MODEL" in choice.reason


def test_auto_with_a_found_model_but_no_sdxl_install_uses_the_preview(registry, tmp_path):
    registry["sdxl"] = ImportError("No module named 'torch'")
    put_model_in_hub_cache(tmp_path / "hub")
    choice = select.choose_renderer("auto", RenderOptions())
    assert choice.name == "preview" and "torch" in choice.reason


def test_auto_with_a_model_but_no_sdxl_install_is_an_error(registry):
    registry["sdxl"] = ImportError("No module named 'torch'")
    with pytest.raises(DeditError, match="model is configured"):
        select.choose_renderer("auto", RenderOptions(model="/models/x"))


def test_explicit_sdxl_without_a_model_is_an_error_not_a_fallback(registry):
    registry["sdxl"] = fake_sdxl()
    with pytest.raises(DeditError) as err:
        select.choose_renderer("sdxl", RenderOptions())
    message = str(err.value)
    assert "--model" in message and "DEDIT_MODEL" in message and message.count(". ") == 0 and "\n" not in message


def test_explicit_sdxl_with_a_model_or_a_found_one(registry, tmp_path):
    registry["sdxl"] = fake_sdxl()
    assert select.choose_renderer("sdxl", RenderOptions(model="m")).name == "sdxl"
    put_model_in_hub_cache(tmp_path / "hub")
    options = RenderOptions()
    assert select.choose_renderer("sdxl", options).name == "sdxl" and options.model == select.FINDABLE_MODELS[0]


def test_explicit_preview_and_unknown_names(registry):
    assert select.choose_renderer("preview", RenderOptions()).cls is PreviewRenderer
    with pytest.raises(DeditError, match="no renderer named 'nope'"):
        select.choose_renderer("nope", RenderOptions())


def test_a_plugin_that_fails_to_import_is_named_in_plain_words(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(select, "load_renderer_class", missing)
    with pytest.raises(DeditError) as caught:
        select._load("sdxl")
    assert str(caught.value) == "the sdxl renderer needs the package torch, which is not installed (pip install 'designedit[sdxl]')."

    def broken(name):
        raise RuntimeError("CUDA driver too old")

    monkeypatch.setattr(select, "load_renderer_class", broken)
    with pytest.raises(DeditError) as caught:
        select._load("sdxl")
    assert "RuntimeError" not in str(caught.value) and "CUDA driver too old" in str(caught.value)
