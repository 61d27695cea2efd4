"""Choosing the renderer: `auto` picks SDXL when it has a model, else the preview.

The choice is always explained in one line (`Choice.reason`) so a user who
sees a draft instead of a diffusion render knows why. An explicit `sdxl`
without a model is an error, never a silent fallback to the preview.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import DeditError
from .renderer import RenderOptions, load_renderer_class

MODEL_ENV = "DEDIT_MODEL"


@dataclass
class Choice:
    name: str
    cls: type
    reason: str  # one line for the user

    @property
    def line(self) -> str:
        return f"renderer: {self.name} ({self.reason})"


def with_model_from_env(options: RenderOptions) -> RenderOptions:
    """Fill `options.model` from $DEDIT_MODEL when --model was not given."""
    if not options.model and os.environ.get(MODEL_ENV):
        options.model = os.environ[MODEL_ENV]
    return options


def _model_source(options: RenderOptions) -> str:
    if os.environ.get(MODEL_ENV) == options.model:
        return f"{MODEL_ENV}={options.model}"
    return f"--model {options.model}"


def _load(name: str) -> type:
    try:
        return load_renderer_class(name)
    except DeditError:
        raise
    except Exception as exc:  # noqa: BLE001 - an installed plugin that fails to import
        raise DeditError(f"the {name} renderer cannot be loaded ({type(exc).__name__}: {exc}).") from exc


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
        ok, why = cls.available(options)
        if not ok:
            raise DeditError(
                f"the SDXL renderer needs a model and none is configured or found ({why.rstrip('.')}); "
                f"pass --model or set {MODEL_ENV}, or use --renderer preview."
            )
        return Choice(name, cls, f"chosen with --renderer; {why.rstrip('.')}")
    if name == "sdxl":
        return Choice(name, cls, f"chosen with --renderer; model from {_model_source(options)}")
    return Choice(name, cls, "chosen with --renderer")


def _choose_auto(options: RenderOptions) -> Choice:
    sdxl, why_not = _load_sdxl()
    if options.model:
        if sdxl is None:
            raise DeditError(
                f"a model is configured ({_model_source(options)}) but {why_not}; "
                "install designedit[sdxl] or use --renderer preview."
            )
        return Choice("sdxl", sdxl, f"model from {_model_source(options)}")
    if sdxl is not None:
        ok, why = sdxl.available(options)
        if ok:
            return Choice("sdxl", sdxl, f"found a model: {why.rstrip('.')}")
        why_not = why.rstrip(".")
    preview = _load("preview")
    return Choice(
        "preview",
        preview,
        f"no SDXL model: {why_not}; pass --model or set {MODEL_ENV} for a diffusion render",
    )
