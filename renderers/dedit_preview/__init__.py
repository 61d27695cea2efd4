"""The preview renderer: the plan executed in pixel space, no model, no torch (`renderer`).

Importing this package is cheap: the core reads `plugin` (the preview always runs, below any renderer
that has a model) without loading OpenCV; `PreviewRenderer` is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from designedit.rendering.protocol import Availability, RenderOptions

if TYPE_CHECKING:
    from .renderer import PreviewRenderer, shift

__all__ = ["PreviewRenderer", "plugin", "shift"]


class PreviewPlugin:
    priority = 10  # below every renderer with a model; above a package that says nothing of itself
    label = "preview"
    install = ""
    chosen_when = ""  # always: it needs nothing
    options_type = None

    def add_arguments(self, group) -> None:
        pass  # no flags of its own

    def options_from_args(self, args) -> None:
        return None

    def available(self, options: RenderOptions, by_name: bool = False) -> Availability:
        return Availability(True, "" if by_name else "a draft without diffusion")

    def preflight(self, options: RenderOptions) -> None:
        pass


plugin = PreviewPlugin()


def __getattr__(name: str) -> Any:
    if name in ("PreviewRenderer", "shift"):  # the entry point `dedit_preview:PreviewRenderer` lands here
        from . import renderer

        return getattr(renderer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
