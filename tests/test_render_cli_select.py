"""Renderer choice: auto picks SDXL only with a model, explicit sdxl never falls back silently."""

from __future__ import annotations

import pytest

import designedit.select as select
from dedit_preview import PreviewRenderer
from designedit.errors import DeditError
from designedit.renderer import RenderOptions


def fake_sdxl(found: bool):
    class FakeSDXL:
        name = "sdxl"

        def __init__(self, options):
            self.options = options

        @classmethod
        def available(cls, options):
            if options.model:
                return True, f"model {options.model}"
            return (True, "found stabilityai/sdxl in the local cache") if found else (False, "no model in the local cache")

    return FakeSDXL


@pytest.fixture()
def registry(monkeypatch):
    monkeypatch.delenv("DEDIT_MODEL", raising=False)
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


def test_auto_without_a_model_uses_the_preview_and_says_why(registry):
    registry["sdxl"] = fake_sdxl(found=False)
    choice = select.choose_renderer("auto", RenderOptions())
    assert choice.cls is PreviewRenderer and choice.name == "preview"
    assert choice.line.startswith("renderer: preview (") and "no model in the local cache" in choice.line
    assert "\n" not in choice.line


def test_auto_with_a_found_model_uses_sdxl(registry):
    registry["sdxl"] = fake_sdxl(found=True)
    choice = select.choose_renderer("auto", RenderOptions())
    assert choice.name == "sdxl" and "found" in choice.reason


def test_auto_with_a_configured_model_uses_sdxl(registry, monkeypatch):
    registry["sdxl"] = fake_sdxl(found=False)
    assert select.choose_renderer("auto", RenderOptions(model="/models/x")).name == "sdxl"
    monkeypatch.setenv("DEDIT_MODEL", "/models/from-env")
    options = RenderOptions()
    choice = select.choose_renderer("auto", options)
    assert choice.name == "sdxl" and options.model == "/models/from-env" and "DEDIT_MODEL" in choice.reason


def test_auto_without_an_sdxl_install_uses_the_preview(registry):
    registry["sdxl"] = ImportError("No module named 'torch'")
    choice = select.choose_renderer("auto", RenderOptions())
    assert choice.name == "preview" and "torch" in choice.reason


def test_auto_with_a_model_but_no_sdxl_install_is_an_error(registry):
    registry["sdxl"] = ImportError("No module named 'torch'")
    with pytest.raises(DeditError, match="model is configured"):
        select.choose_renderer("auto", RenderOptions(model="/models/x"))


def test_explicit_sdxl_without_a_model_is_an_error_not_a_fallback(registry):
    registry["sdxl"] = fake_sdxl(found=False)
    with pytest.raises(DeditError) as err:
        select.choose_renderer("sdxl", RenderOptions())
    message = str(err.value)
    assert "--model" in message and "DEDIT_MODEL" in message and message.count(". ") == 0 and "\n" not in message


def test_explicit_sdxl_with_a_model_or_a_found_one(registry):
    registry["sdxl"] = fake_sdxl(found=True)
    assert select.choose_renderer("sdxl", RenderOptions()).name == "sdxl"
    registry["sdxl"] = fake_sdxl(found=False)
    assert select.choose_renderer("sdxl", RenderOptions(model="m")).name == "sdxl"


def test_explicit_preview_and_unknown_names(registry):
    assert select.choose_renderer("preview", RenderOptions()).cls is PreviewRenderer
    with pytest.raises(DeditError, match="no renderer named 'nope'"):
        select.choose_renderer("nope", RenderOptions())
