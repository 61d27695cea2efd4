"""Choosing the renderer: `auto` picks SDXL when it has a model, else the preview.

A model is *configured* with --model or $DEDIT_MODEL, or *found*: the SDXL
base model already in the local Hugging Face cache. Finding is a look at the
cache folders, without importing the SDXL renderer, so `auto` on a machine
without a model starts the preview at once instead of loading torch first.

The choice is always explained in one line (`Choice.reason`) so a user who
sees a draft instead of a diffusion render knows why. An explicit `sdxl`
without a model is an error, never a silent fallback to the preview.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from designedit.errors import DeditError
from designedit.rendering.protocol import RenderOptions, load_renderer_class

MODEL_ENV = "DEDIT_MODEL"
# Hub ids `auto` looks for in the local Hugging Face cache when no model is configured.
FINDABLE_MODELS = ("stabilityai/stable-diffusion-xl-base-1.0",)


@dataclass
class Choice:
    name: str
    cls: type
    reason: str  # one line for the user

    @property
    def line(self) -> str:
        return f"renderer: {self.name} ({self.reason})"


def model_spec(options: RenderOptions) -> Optional[str]:
    """The model as the user named it: --model (`options.model`), else $DEDIT_MODEL; None when neither."""
    return options.model or os.environ.get(MODEL_ENV) or None


def with_model_from_env(options: RenderOptions) -> RenderOptions:
    """Fill `options.model` from $DEDIT_MODEL when --model was not given."""
    options.model = model_spec(options)
    return options


def no_model_error() -> DeditError:
    """`--renderer sdxl` with no model configured and none in the local Hugging Face cache."""
    return DeditError(
        f"the SDXL renderer needs a model and none is configured or found in {hub_cache_dir()}; "
        f"pass --model or set {MODEL_ENV}, or use --renderer preview."
    )


def hub_cache_dir() -> Path:
    """Where huggingface_hub keeps downloads, by its own environment variables."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "huggingface" / "hub"


def find_cached_model() -> Optional[str]:
    """The first FINDABLE_MODELS hub id with a complete-looking snapshot in the local cache."""
    cache = hub_cache_dir()
    for repo_id in FINDABLE_MODELS:
        snapshots = cache / f"models--{repo_id.replace('/', '--')}" / "snapshots"
        try:
            if any((snap / "model_index.json").is_file() for snap in snapshots.iterdir()):
                return repo_id
        except OSError:
            continue
    return None


def _model_source(options: RenderOptions) -> str:
    if os.environ.get(MODEL_ENV) == options.model:
        return f"{MODEL_ENV}={options.model}"
    return f"--model {options.model}"


def _load(name: str) -> type:
    try:
        return load_renderer_class(name)
    except DeditError:
        raise
    except ModuleNotFoundError as exc:  # an optional install left out
        hint = " (pip install 'designedit[sdxl]')" if name == "sdxl" else ""
        raise DeditError(f"the {name} renderer needs the package {exc.name}, which is not installed{hint}.") from exc
    except Exception as exc:  # noqa: BLE001 - an installed plugin that fails to import
        raise DeditError(f"the {name} renderer cannot be loaded: importing it failed with: {exc}.") from exc


def _load_sdxl() -> tuple[type | None, str]:
    try:
        return _load("sdxl"), ""
    except DeditError as exc:  # a missing or broken optional install must not break the preview
        return None, str(exc).rstrip(".")


def choose_renderer(name: str, options: RenderOptions) -> Choice:
    with_model_from_env(options)
    if name == "auto":
        return _choose_auto(options)
    cls = _load(name)
    if name == "sdxl" and not options.model:
        found = find_cached_model()
        if found is None:
            raise no_model_error()
        options.model = found
        return Choice(name, cls, f"chosen with --renderer; found {found} in the local Hugging Face cache")
    if name == "sdxl":
        return Choice(name, cls, f"chosen with --renderer; model from {_model_source(options)}")
    return Choice(name, cls, "chosen with --renderer")


def _choose_auto(options: RenderOptions) -> Choice:
    if options.model:
        sdxl, why_not = _load_sdxl()
        if sdxl is None:
            raise DeditError(
                f"a model is configured ({_model_source(options)}) but {why_not}; "
                "install designedit[sdxl] or use --renderer preview."
            )
        return Choice("sdxl", sdxl, f"model from {_model_source(options)}")
    found = find_cached_model()
    if found is not None:
        sdxl, why_not = _load_sdxl()
        if sdxl is not None:
            options.model = found
            return Choice("sdxl", sdxl, f"found {found} in the local Hugging Face cache")
        reason = f"found {found} in the local Hugging Face cache but {why_not}"
    else:
        reason = f"no SDXL model configured (--model or {MODEL_ENV}) or found in the local Hugging Face cache"
    return Choice("preview", _load("preview"), f"{reason}; a draft without diffusion")
