"""Renderer choice: auto picks SDXL only with a model, explicit sdxl never falls back silently."""

from __future__ import annotations

from pathlib import Path

import pytest

import designedit.rendering.select as select
from dedit_preview import PreviewRenderer
from designedit.errors import DeditError
from designedit.rendering.protocol import Availability, RenderOptions
from dedit_sdxl import SDXLOptions, sdxl_options
from dedit_sdxl.options import FINDABLE_MODELS


def fake_sdxl():
    class FakeSDXL:
        name = "sdxl"

        def __init__(self, options):
            self.options = options

    return FakeSDXL


def put_model_in_hub_cache(hub: Path, repo_id: str = FINDABLE_MODELS[0]) -> None:
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
    assert choice.options.of(SDXLOptions).model == FINDABLE_MODELS[0]


def test_auto_with_a_configured_model_uses_sdxl(registry, monkeypatch):
    registry["sdxl"] = fake_sdxl()
    assert select.choose_renderer("auto", sdxl_options(model="/models/x")).name == "sdxl"
    monkeypatch.setenv("DEDIT_MODEL", "/models/from-env")
    options = RenderOptions()
    choice = select.choose_renderer("auto", options)
    assert choice.name == "sdxl" and choice.options.of(SDXLOptions).model == "/models/from-env" and "DEDIT_MODEL" in choice.reason


def test_auto_with_a_found_model_but_no_sdxl_install_uses_the_preview(registry, tmp_path):
    registry["sdxl"] = ImportError("No module named 'torch'")
    put_model_in_hub_cache(tmp_path / "hub")
    choice = select.choose_renderer("auto", RenderOptions())
    assert choice.name == "preview" and "torch" in choice.reason


def test_auto_with_a_model_but_no_sdxl_install_is_an_error(registry):
    registry["sdxl"] = ImportError("No module named 'torch'")
    with pytest.raises(DeditError, match="model is configured"):
        select.choose_renderer("auto", sdxl_options(model="/models/x"))


def test_explicit_sdxl_without_a_model_is_an_error_not_a_fallback(registry):
    registry["sdxl"] = fake_sdxl()
    with pytest.raises(DeditError) as err:
        select.choose_renderer("sdxl", RenderOptions())
    message = str(err.value)
    assert "--model" in message and "DEDIT_MODEL" in message and message.count(". ") == 0 and "\n" not in message


def test_explicit_sdxl_with_a_model_or_a_found_one(registry, tmp_path):
    registry["sdxl"] = fake_sdxl()
    assert select.choose_renderer("sdxl", sdxl_options(model="m")).name == "sdxl"
    put_model_in_hub_cache(tmp_path / "hub")
    choice = select.choose_renderer("sdxl", RenderOptions())
    assert choice.name == "sdxl" and choice.options.of(SDXLOptions).model == FINDABLE_MODELS[0]


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


class FakePlugin:
    """A renderer package's description of itself (designedit.rendering.protocol.RendererPlugin)."""

    label, install, chosen_when, options_type = "Fancy", "", "when it has a GPU", None

    def __init__(self, priority: int, ok: bool) -> None:
        self.priority, self.ok = priority, ok

    def available(self, options, by_name=False):
        return Availability(self.ok, "fancy has a GPU" if self.ok else "fancy has no GPU")

    def preflight(self, options):
        pass


@pytest.mark.parametrize("ok", [True, False])
def test_auto_takes_the_highest_priority_renderer_whose_plugin_says_yes(registry, monkeypatch, ok):
    from designedit.rendering.registry import installed

    registry["fancy"] = PreviewRenderer
    monkeypatch.setattr(select, "installed", lambda: {"fancy": FakePlugin(200, ok), **installed()})
    choice = select.choose_renderer("auto", RenderOptions())
    if ok:
        assert (choice.name, choice.reason) == ("fancy", "fancy has a GPU")
    else:  # each renderer passed over says why, in priority order
        assert choice.name == "preview" and choice.reason.startswith("fancy has no GPU; no SDXL model configured")


def test_the_renderer_flag_is_explained_from_the_installed_renderers():
    from designedit.cli import build_parser

    render = build_parser()._subparsers._group_actions[0].choices["render"]
    helps = {a.dest: a.help for a in render._actions}
    assert helps["renderer"] == ("auto (default: sdxl when a model is configured or found, else preview), preview, sdxl, "
                                 "or another installed renderer")
